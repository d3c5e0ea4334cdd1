/**
 * A rule's selector list (`servers`, `tools`, `prompts`, `resources`): exact names and `*`
 * globs, where `*` matches any run of characters (none included, `/` included) and every other
 * character stands for itself. Compiled once; matching builds no RegExp and allocates nothing.
 */

/** One compiled glob: the literal pieces between its stars. */
export interface NameGlob {
  readonly pattern: string;
  matches(name: string): boolean;
}

/** A compiled selector list. */
export interface NameSelector {
  /** The names given without a star. */
  readonly exact: ReadonlySet<string>;
  readonly globs: readonly NameGlob[];
  matches(name: string): boolean;
}

/** True when `pattern` holds a `*`. */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

/** Compiles one `*` glob. */
export function compileGlob(pattern: string): NameGlob {
  const pieces = pattern.split('*');
  const head = pieces[0] ?? '';
  const tail = pieces[pieces.length - 1] ?? '';
  const middle = pieces.slice(1, -1).filter((piece) => piece !== '');
  const minLength = head.length + tail.length + middle.reduce((sum, piece) => sum + piece.length, 0);
  return {
    pattern,
    matches(name) {
      if (name.length < minLength || !name.startsWith(head) || !name.endsWith(tail)) return false;
      // Leftmost placement of each middle piece is optimal for a star-only glob.
      let from = head.length;
      const end = name.length - tail.length;
      for (const piece of middle) {
        const at = name.indexOf(piece, from);
        if (at < 0 || at + piece.length > end) return false;
        from = at + piece.length;
      }
      return true;
    },
  };
}

/** Compiles a selector list. */
export function compileSelector(patterns: readonly string[]): NameSelector {
  const exact = new Set<string>();
  const globs: NameGlob[] = [];
  for (const pattern of patterns) {
    if (isGlob(pattern)) globs.push(compileGlob(pattern));
    else exact.add(pattern);
  }
  return {
    exact,
    globs,
    matches(name) {
      if (exact.has(name)) return true;
      for (const glob of globs) if (glob.matches(name)) return true;
      return false;
    },
  };
}
