/* pyc_health.c - health probes for `--health` modes (pyc_health.h).
 *
 * NOTES: the request probe is an ordinary client of the control socket
 * (nng req), so it checks the same path the gateway uses. Every wait has
 * the caller's timeout: nng's send and receive timeouts, and a poll on the
 * non-blocking TCP connect.
 */
#include "pyc_health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "pyc_wire.h"

pyc_err pyc_health_tcp(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints, *res = NULL;
	char portstr[16];
	pyc_err rv = PYC_ECLOSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		return PYC_EINVAL;
	for (struct addrinfo *a = res; a != NULL && rv != PYC_OK; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			rv = PYC_OK;
		} else if (errno == EINPROGRESS) {
			struct pollfd p = {fd, POLLOUT, 0};
			int err = 0;
			socklen_t len = sizeof(err);
			if (poll(&p, 1, timeout_ms) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
				rv = PYC_OK;
			else
				rv = PYC_ETIMEDOUT;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return rv;
}

pyc_err pyc_health_request(const char *url, int timeout_ms, char *json, size_t cap)
{
	nng_socket s;
	nng_msg *msg = NULL;
	pyc_wire_msg m;
	pyc_status_rep rep;
	pyc_err rv;
	int nrv;

	if ((nrv = nng_req0_open(&s)) != 0)
		return pyc_err_from_nng(nrv);
	nng_setopt_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
	nng_setopt_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
	if ((nrv = nng_dial(s, url, NULL, 0)) != 0) {
		rv = pyc_err_from_nng(nrv);
		goto done;
	}
	if ((rv = pyc_wire_msg_new(&msg, PYC_MSG_HEALTH, 0, NULL, 1, NULL, 0)) != PYC_OK)
		goto done;
	if ((nrv = nng_sendmsg(s, msg, 0)) != 0) {
		nng_msg_free(msg);
		rv = pyc_err_from_nng(nrv);
		goto done;
	}
	msg = NULL;
	if ((nrv = nng_recvmsg(s, &msg, 0)) != 0) {
		rv = pyc_err_from_nng(nrv);
		goto done;
	}
	if ((rv = pyc_wire_msg_decode(msg, &m)) != PYC_OK)
		goto done;
	if (m.type != PYC_MSG_HEALTH || !(m.flags & PYC_WIRE_F_REPLY)) {
		rv = PYC_EPROTO;
		goto done;
	}
	if ((rv = pyc_status_rep_get(m.payload, m.payload_len, &rep)) != PYC_OK)
		goto done;
	if (json != NULL && cap > 0) {
		size_t n = rep.json_len < cap - 1 ? rep.json_len : cap - 1;
		memcpy(json, rep.json, n);
		json[n] = '\0';
	}
	rv = (pyc_err) rep.status;
done:
	nng_msg_free(msg);
	nng_close(s);
	return rv;
}
