/* pyc_err.h - the error codes every Pycoustics function returns.
 *
 * NOTES: one enum for the whole project, as nng has nng_err. Library codes
 * (nng int, lws -1, MHD_NO, SF_ERR_*, SQLITE_*) are mapped to these at the
 * boundary where they occur, and the original is logged once there.
 */
#ifndef PYC_ERR_H
#define PYC_ERR_H

typedef enum pyc_err {
	PYC_OK = 0,
	PYC_ENOMEM,    /* out of memory */
	PYC_EINVAL,    /* invalid argument or value out of range */
	PYC_EIO,       /* I/O error */
	PYC_EPROTO,    /* malformed or unexpected message */
	PYC_ECLOSED,   /* peer or object closed */
	PYC_ETIMEDOUT, /* a bounded wait expired */
	PYC_ENOENT,    /* no such object (recording, session) */
	PYC_ENOSPC,    /* no space left on device */
	PYC_EBUSY,     /* resource busy or limit reached */
	PYC_EAGAIN,    /* try again later (queue full) */
	PYC_EVERSION,  /* unsupported message version */
	PYC_EPERM,     /* not permitted */
	PYC_EEXIST,    /* already exists */
	PYC_ERR_COUNT
} pyc_err;

/* Returns a static, human-readable description; never NULL. */
const char *pyc_strerror(int err);

/* Returns a short stable word for the error ("einval"...); never NULL. */
const char *pyc_err_name(int err);

/* Maps an nng return code to a pyc_err. */
pyc_err pyc_err_from_nng(int nng_rv);

/* Maps an errno value to a pyc_err. */
pyc_err pyc_err_from_errno(int errnum);

#endif /* PYC_ERR_H */
