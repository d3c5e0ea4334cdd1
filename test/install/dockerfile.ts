// A small reader for the project's Dockerfiles: enough to check their essentials and to
// reproduce what their COPY puts into an image, without a container engine.
import { readFileSync } from 'node:fs';

/** One Dockerfile instruction: its keyword (upper case) and its arguments, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
}

/** The instructions of a Dockerfile, comments and blank lines dropped. */
export function readDockerfile(path: string): Instruction[] {
  const joined = readFileSync(path, 'utf8').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The sources and destination of a COPY instruction (its --flags dropped). */
export function copyOperands(instruction: Instruction): { sources: string[]; destination: string } {
  const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
  const destination = words.pop();
  if (destination === undefined || words.length === 0) throw new Error(`COPY ${instruction.args} names no source`);
  return { sources: words, destination };
}

/** The exec-form ENTRYPOINT of a Dockerfile. */
export function entrypoint(instructions: Instruction[]): string[] {
  const found = instructions.filter((instruction) => instruction.keyword === 'ENTRYPOINT');
  if (found.length !== 1) throw new Error(`expected one ENTRYPOINT, found ${found.length}`);
  return JSON.parse(found[0]!.args) as string[];
}
