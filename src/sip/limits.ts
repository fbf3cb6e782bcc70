/** Per-source INVITE rate limiting: the token buckets now live in src/util (the control API uses them too). */
export { TokenBucketLimiter, type RateLimit } from '../util/tokenBucket.js';
