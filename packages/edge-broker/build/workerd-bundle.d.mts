import type { BuildOptions, Plugin } from 'esbuild';

/** Routes Node built-ins to workerd's nodejs_compat modules (see workerd-bundle.mjs). */
export declare const nodeBuiltinsForWorkerd: Plugin;
/** esbuild options of a workerd bundle (see workerd-bundle.mjs). */
export declare const WORKERD_BUNDLE_OPTIONS: BuildOptions;
