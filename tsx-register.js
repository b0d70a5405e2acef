// cucumber-js 12 on Node 20 cannot load .ts config or steps by itself: register tsx first.
import { register } from 'tsx/esm/api';
register();
