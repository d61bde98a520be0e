export * from './locked-down-api';
export * from './stack';
export * from './edge-web-acl';
