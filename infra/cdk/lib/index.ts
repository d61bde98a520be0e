export * from './locked-down-api';
export * from './stack';
