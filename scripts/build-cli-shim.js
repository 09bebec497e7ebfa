// Injected into each CLI bundle by scripts/build-cli.js: the URL of the bundle file, which
// stands for `import.meta.url` there (the bundles are CommonJS).
export const __cnabsecModuleUrl = require('node:url').pathToFileURL(__filename).href;
