// The fix of every doctor row that provision repairs: one wording, shared by the row modules.
export const REPROVISION_FIX = 'run `fieldcam provision --thing <thing>` again: it repairs what is missing';
