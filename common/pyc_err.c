/* pyc_err.c - descriptions of pyc_err codes and mappings from library codes.
 *
 * NOTES: the mapping from nng and errno lives here so that every service
 * agrees on what, say, a timed-out receive means to its callers.
 */
#include "pyc_err.h"

#include <errno.h>
#include <nng/nng.h>

static const struct {
	const char *name;
	const char *text;
} errs[PYC_ERR_COUNT] = {
	[PYC_OK] = {"ok", "success"},
	[PYC_ENOMEM] = {"enomem", "out of memory"},
	[PYC_EINVAL] = {"einval", "invalid argument"},
	[PYC_EIO] = {"eio", "input/output error"},
	[PYC_EPROTO] = {"eproto", "protocol error"},
	[PYC_ECLOSED] = {"eclosed", "object closed"},
	[PYC_ETIMEDOUT] = {"etimedout", "timed out"},
	[PYC_ENOENT] = {"enoent", "no such object"},
	[PYC_ENOSPC] = {"enospc", "no space left on device"},
	[PYC_EBUSY] = {"ebusy", "resource busy"},
	[PYC_EAGAIN] = {"eagain", "try again"},
	[PYC_EVERSION] = {"eversion", "unsupported version"},
	[PYC_EPERM] = {"eperm", "not permitted"},
	[PYC_EEXIST] = {"eexist", "already exists"},
};

const char *pyc_strerror(int err)
{
	if (err < 0 || err >= PYC_ERR_COUNT)
		return "unknown error";
	return errs[err].text;
}

const char *pyc_err_name(int err)
{
	if (err < 0 || err >= PYC_ERR_COUNT)
		return "unknown";
	return errs[err].name;
}

pyc_err pyc_err_from_nng(int rv)
{
	switch (rv) {
	case 0:
		return PYC_OK;
	case NNG_ENOMEM:
		return PYC_ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
	case NNG_EBADTYPE:
	case NNG_ENOARG:
	case NNG_EAMBIGUOUS:
		return PYC_EINVAL;
	case NNG_ETIMEDOUT:
		return PYC_ETIMEDOUT;
	case NNG_EAGAIN:
		return PYC_EAGAIN;
	case NNG_ECLOSED:
	case NNG_ECONNSHUT:
	case NNG_ECONNRESET:
	case NNG_ECONNREFUSED:
	case NNG_ECONNABORTED:
	case NNG_ECANCELED:
		return PYC_ECLOSED;
	case NNG_ENOENT:
		return PYC_ENOENT;
	case NNG_EPROTO:
	case NNG_EMSGSIZE:
		return PYC_EPROTO;
	case NNG_EBUSY:
	case NNG_EADDRINUSE:
		return PYC_EBUSY;
	case NNG_EPERM:
	case NNG_EREADONLY:
		return PYC_EPERM;
	case NNG_ENOSPC:
		return PYC_ENOSPC;
	default:
		return PYC_EIO;
	}
}

pyc_err pyc_err_from_errno(int e)
{
	switch (e) {
	case 0:
		return PYC_OK;
	case ENOMEM:
		return PYC_ENOMEM;
	case EINVAL:
	case ENAMETOOLONG:
		return PYC_EINVAL;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return PYC_ENOSPC;
	case ENOENT:
	case ENOTDIR:
		return PYC_ENOENT;
	case EACCES:
	case EPERM:
	case EROFS:
		return PYC_EPERM;
	case EEXIST:
		return PYC_EEXIST;
	case EAGAIN:
		return PYC_EAGAIN;
	case ETIMEDOUT:
		return PYC_ETIMEDOUT;
	case EBUSY:
		return PYC_EBUSY;
	default:
		return PYC_EIO;
	}
}
