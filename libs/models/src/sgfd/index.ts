export { teacherWidths, TeacherTower } from './teacher';
export type { TowerOptions } from './teacher';
export { Student } from './student';
export { SemanticTeacher, FusionHead } from './semantic-teacher';
export type { SgfdModuleOptions, TeacherForward } from './semantic-teacher';
export { crossEntropy, responseDistillation, featureDistillation, accuracy } from './losses';
export type { ResponseLossKind } from './losses';
export {
  teacherPretrainLoss,
  teacherFirstProducts,
  teacherPretrainLossFromProducts,
  jointLoss,
  distillationLoss,
} from './objectives';
export type { LossOptions, Classify, InputDropout, FirstProduct } from './objectives';
export { saveTeacherOutputs, loadTeacherOutputs, FrozenTeacher } from './teacher-outputs';
export type { TeacherOutputs, TeacherModalityOutputs, TeacherReport } from './teacher-outputs';
