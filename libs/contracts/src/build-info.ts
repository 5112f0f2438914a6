/** What `npm run build` stamps into the bundles of dist/ (tools/build): absent when running from source. */
export interface BuildInfo {
  /** The code version of the checkout the bundle was built from (git describe, -dirty-<hash> for local edits). */
  codeVersion: string;
  builtAt: string;
}

// Replaced by esbuild's `define` in a bundle; an undeclared global everywhere else (typeof is then 'undefined').
declare const __SGFD_BUILD_INFO__: BuildInfo | undefined;

/** The build's stamp when this code runs from a bundle in dist/, else undefined (source run through tsx). */
export const BUILD_INFO: BuildInfo | undefined =
  typeof __SGFD_BUILD_INFO__ === 'undefined' ? undefined : __SGFD_BUILD_INFO__;
