// Preloaded (`node --import`) into the real `sgfd` by uncaught-errors.test.ts: as soon as the CLI has
// installed its process handlers, an error escapes every await, as a throwing callback would.
// SGFD_TEST_ESCAPE=exception throws from a timer; SGFD_TEST_ESCAPE=rejection leaves a promise rejected.
const kind = process.env.SGFD_TEST_ESCAPE;
const installed = () =>
  process.listenerCount('uncaughtException') > 0 && process.listenerCount('unhandledRejection') > 0;
const poll = setInterval(() => {
  if (!installed()) return;
  clearInterval(poll);
  if (kind === 'rejection') void Promise.reject(new Error('escaped rejection'));
  else throw new Error('escaped exception');
}, 1);
