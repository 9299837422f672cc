'use strict';
// errors.js: one Error subclass per MN_E* code of include/manushya.h (its static .code). Each
// error carries .code (the number) and the library's message (mn_errmsg: what was wrong and
// what to do).

class ManushyaError extends Error {
  constructor(code, message) {
    super(message);
    this.name = this.constructor.name;
    this.code = code;
  }
}

// [code, class name]: the codes of manushya.h, in its order.
const CODES = [
  [1, 'GenericError'],        // MN_ERROR
  [2, 'InvalidArgumentError'], // MN_EINVAL: nothing was changed
  [3, 'NotFoundError'],       // MN_ENOTFOUND
  [4, 'AlreadyExistsError'],  // MN_EEXISTS
  [5, 'DeniedError'],         // MN_EDENIED: a policy (or an API key's scopes) refused
  [6, 'RateLimitedError'],    // MN_ELIMITED: .retryAfterMs says when to retry
  [7, 'BackendError'],        // MN_EBACKEND: the store or a server failed
  [8, 'OutOfMemoryError'],    // MN_ENOMEM
  [9, 'UnsupportedError'],    // MN_EUNSUPPORTED: not in this build, backend or URL
  [10, 'CorruptError'],       // MN_ECORRUPT
  [11, 'LimitExceededError'], // MN_ERANGE: a computation ran past its limits
  [12, 'MasterKeyError'],     // MN_EKEY: the master key is missing or wrong
];

const classes = { ManushyaError };
const byCode = new Map();
for (const [code, name] of CODES) {
  // A named class per code, so that stack traces and instanceof say which one.
  const cls = { [name]: class extends ManushyaError {} }[name];
  cls.code = code;
  classes[name] = cls;
  byCode.set(code, cls);
}

// The error for rc with message; a code this package does not know (from a newer library)
// is a plain ManushyaError carrying it.
function errorFor(rc, message) {
  const cls = byCode.get(rc) || ManushyaError;
  return new cls(rc, message);
}

module.exports = { classes, errorFor };
