export { buildProgram, runCli, ExitCode, type CommandModule } from './program';
export { emit, globalsOf, note, type GlobalOptions } from './output';
