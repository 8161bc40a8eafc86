/*
 * Raw byte-stream baselines: pipe, FIFO, Unix stream socket (path and
 * abstract), TCP over loopback. Only system calls in the path: one write
 * of the payload, reads until it is all there (both sides know the size,
 * so no framing). Set up as ipckit's channels do (A listens, B connects),
 * so the Setup figures compare too.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "tool.h"

struct sfd {
	int rfd, wfd, lfd;
	char path[108]; /* created by this side: removed on close */
};

static struct sfd *
sfd_new(struct bench_end *e)
{
	/* NULL (reported as -ENOMEM) also if SIGPIPE cannot be ignored */
	struct sfd *s = bench_ignore_sigpipe() == 0 ? malloc(sizeof(*s)) : NULL;

	if (s) {
		s->rfd = s->wfd = s->lfd = -1;
		s->path[0] = '\0';
	}
	e->st = s;
	return s;
}

static void
sfd_close(struct bench_end *e)
{
	struct sfd *s = e->st;

	if (s == NULL)
		return;
	if (s->wfd >= 0 && s->wfd != s->rfd)
		close(s->wfd);
	if (s->rfd >= 0)
		close(s->rfd);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->path[0])
		unlink(s->path);
	free(s);
	e->st = NULL;
}

static int
sfd_send(struct bench_end *e, void *buf, size_t len)
{
	return bench_write_all(((struct sfd *)e->st)->wfd, buf, len);
}

static int
sfd_recv(struct bench_end *e, void *buf, size_t len)
{
	return bench_read_all(((struct sfd *)e->st)->rfd, buf, len);
}

/* ---- pipe: two, made before fork ---------------------------------------- */

static int
pipe_prepare(const struct bench_row *r, void **shared)
{
	int *fd = malloc(4 * sizeof(int));

	(void)r;
	if (fd == NULL)
		return -ENOMEM;
	if (pipe2(fd, O_CLOEXEC) < 0) {
		free(fd);
		return -errno;
	}
	if (pipe2(fd + 2, O_CLOEXEC) < 0) {
		int rc = -errno;

		close(fd[0]), close(fd[1]), free(fd);
		return rc;
	}
	*shared = fd;
	return 0;
}

static void
pipe_cleanup(const struct bench_row *r, void *shared)
{
	int *fd = shared;

	(void)r;
	for (int i = 0; fd && i < 4; i++)
		close(fd[i]);
	free(fd);
}

static int
pipe_open(const struct bench_row *r, struct bench_end *e)
{
	int *fd = e->shared;
	struct sfd *s = sfd_new(e);

	(void)r;
	if (s == NULL)
		return -ENOMEM;
	/* fd[0..1]: A to B; fd[2..3]: B to A. dup: close() stays uniform */
	s->wfd = dup(e->side ? fd[3] : fd[1]);
	s->rfd = dup(e->side ? fd[0] : fd[2]);
	return s->wfd < 0 || s->rfd < 0 ? -EMFILE : 0;
}

/* ---- FIFO: each side makes the one it reads ------------------------------
 */

static int
fifo_open(const struct bench_row *r, struct bench_end *e)
{
	struct sfd *s = sfd_new(e);
	char dir[80], name[64], peer[108];
	int rc;

	(void)r;
	if (s == NULL)
		return -ENOMEM;
	if ((rc = bench_dir(dir, sizeof(dir))) < 0)
		return rc;
	bench_name(name, sizeof(name), e->side ? "rfb" : "rfa");
	snprintf(s->path, sizeof(s->path), "%.60s/%.40s", dir, name);
	if (mkfifo(s->path, S_IRUSR | S_IWUSR) < 0) {
		rc = -errno;
		s->path[0] = '\0';
		return rc;
	}
	if ((rc = bench_ctl_send(e, s->path)) < 0 ||
	    (rc = bench_ctl_recv(e, peer, sizeof(peer))) < 0)
		return rc;
	/* A opens its reader first, B its writer first: no deadlock */
	if (e->side == 0) {
		s->rfd = open(s->path, O_RDONLY | O_CLOEXEC);
		s->wfd = open(peer, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	} else {
		s->wfd = open(peer, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		s->rfd = open(s->path, O_RDONLY | O_CLOEXEC);
	}
	return s->rfd < 0 || s->wfd < 0 ? -errno : 0;
}

/* ---- Unix stream (path or abstract) and TCP: A listens, B connects ------- */

static int
sock_open(const struct bench_row *r, struct bench_end *e)
{
	int fam = (const char *)r->arg == NULL ? AF_INET : AF_UNIX;
	int abstract = r->arg && strcmp(r->arg, "abstract") == 0, one = 1;
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
		struct sockaddr_in in;
	} a = { 0 };
	socklen_t alen;
	struct sfd *s = sfd_new(e);
	char dir[80], name[64], line[160];
	int fd, rc;

	if (s == NULL)
		return -ENOMEM;
	a.sa.sa_family = (sa_family_t)fam;
	if (fam == AF_INET) {
		a.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		alen = sizeof(a.in);
	} else {
		if ((rc = bench_dir(dir, sizeof(dir))) < 0)
			return rc;
		bench_name(name, sizeof(name), "rs");
		if (abstract)
			snprintf(a.un.sun_path + 1, sizeof(a.un.sun_path) - 1,
				 "%s", name);
		else
			snprintf(a.un.sun_path, sizeof(a.un.sun_path),
				 "%.60s/%.40s", dir, name);
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				   (abstract ? 1 + strlen(name)
					     : strlen(a.un.sun_path) + 1));
	}
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (e->side == 0) {
		s->lfd = fd;
		if (bind(fd, &a.sa, alen) < 0 || listen(fd, 1) < 0)
			return -errno;
		if (fam == AF_UNIX && !abstract)
			snprintf(s->path, sizeof(s->path), "%s", a.un.sun_path);
		if (getsockname(fd, &a.sa, &alen) < 0)
			return -errno;
		snprintf(line, sizeof(line), "%u",
			 fam == AF_INET ? ntohs(a.in.sin_port) : 0);
		if ((rc = bench_ctl_send(e, line)) < 0)
			return rc;
		s->rfd = s->wfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (s->rfd < 0)
			return -errno;
	} else {
		s->rfd = s->wfd = fd;
		if ((rc = bench_ctl_recv(e, line, sizeof(line))) < 0)
			return rc;
		if (fam == AF_INET)
			a.in.sin_port = htons((uint16_t)atoi(line));
		if (connect(fd, &a.sa, alen) < 0)
			return -errno;
	}
	if (fam == AF_INET)
		setsockopt(s->rfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

const struct bench_row bench_rows_raw_stream[] = {
	{ "pipe (raw)", "pipe", BK_RAW, 0, NULL, pipe_prepare, pipe_open,
	  sfd_send, sfd_recv, sfd_close, pipe_cleanup },
	{ "fifo (raw)", "fifo", BK_RAW, 0, NULL, NULL, fifo_open, sfd_send,
	  sfd_recv, sfd_close, NULL },
	{ "unix (raw)", "unix", BK_RAW, 0, "path", NULL, sock_open, sfd_send,
	  sfd_recv, sfd_close, NULL },
	{ "abstract (raw)", "abstract", BK_RAW, 0, "abstract", NULL, sock_open,
	  sfd_send, sfd_recv, sfd_close, NULL },
	{ "tcp (raw)", "tcp", BK_RAW, 0, NULL, NULL, sock_open, sfd_send,
	  sfd_recv, sfd_close, NULL },
	{ .name = NULL },
};
