/*
 * emofilter - the milter daemon.
 *
 * emofilter [-c CONF] [-t] [-f] [-p SOCKET] [-u USER] | --version
 *
 * Processes: the main process (single-threaded) opens the socket, drops
 * privileges, builds the engine, forks the scanner workers and the milter
 * process, and stays to reap and replace them. It owns the signals the
 * admin sends: SIGHUP reloads (a new engine is built and checked here
 * first; workers are replaced after their current scan; a bad config
 * keeps everything as it was), SIGTERM stops (the milter process drains
 * its in-flight messages, then the workers go). The milter process runs
 * a thread per MTA connection (mproto.c) and never forks. See emofilter(8).
 */
#include "config.h"

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "correlate.h"
#include "metrics.h"
#include "milter.h"
#include "pool.h"

struct opts {
	const char *conf;
	const char *sock;
	const char *user;
	bool check, fg;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: emofilter [-c CONF] [-t] [-f] [-p SOCKET] [-u USER]\n"
	    "       emofilter --version\n"
	    "  -c CONF    configuration (default %s/emofilter.conf; if it\n"
	    "             does not exist, the built-in defaults, and -t says so)\n"
	    "  -t         check the configuration, rules, pid file, socket and\n"
	    "             quarantine directory (and their owners), then exit\n"
	    "  -f         stay in the foreground, log to stderr too\n"
	    "  -p SOCKET  listen here: unix:/path, inet:port@host or\n"
	    "             inet6:port@host (overrides milter.socket)\n"
	    "  -u USER    run as USER after creating the socket (overrides\n"
	    "             milter.user; needed when started as root)\n",
	    EMF_SYSCONFDIR);
}

/*
 * The default configuration file. *conf is NULL when there is none (the
 * built-in defaults). A file that exists but cannot be read, or one at
 * the old install location, is an error: never silently the defaults.
 */
static bool
default_conf(const char **conf)
{
	static char path[4096];
	struct stat st;

	*conf = NULL;
	snprintf(path, sizeof(path), "%s/emofilter.conf", EMF_SYSCONFDIR);
	if (stat(path, &st) == 0) {
		if (access(path, R_OK) != 0) {
			fprintf(stderr, "emofilter: %s: %s (not using the "
			    "built-in defaults instead; run as a user that "
			    "can read it, or pass -c)\n", path,
			    strerror(errno));
			return false;
		}
		*conf = path;
		return true;
	}
	if (errno != ENOENT) {
		fprintf(stderr, "emofilter: %s: %s\n", path, strerror(errno));
		return false;
	}
#ifdef EMF_LEGACY_CONF
	if (access(EMF_LEGACY_CONF, F_OK) == 0) {
		fprintf(stderr, "emofilter: %s is not read: the configuration "
		    "is %s (move it there, or pass -c %s)\n",
		    EMF_LEGACY_CONF, path, EMF_LEGACY_CONF);
		return false;
	}
#endif
	return true;
}

static const char *
conf_name(const char *conf)
{
	return conf != NULL ? conf : "built-in defaults";
}

static void
log_sink(int level, const char *line, void *arg)
{
	(void)arg;
	syslog(level, "%s", line);
}

/* Load the config and build an engine; false with err set. */
static bool
build(const char *conf, struct emf_engine **engine, struct emf_error *err)
{
	struct emf_cfg *cfg;

	if (emf_cfg_load(conf, &cfg, err) != EMF_OK)
		return false;
	return emf_engine_new(cfg, engine, err) == EMF_OK;
}

/* The unix socket path of "unix:/p" or "local:/p", else NULL. */
static const char *
unix_path(const char *sock)
{
	if (strncmp(sock, "unix:", 5) == 0)
		return sock + 5;
	if (strncmp(sock, "local:", 6) == 0)
		return sock + 6;
	if (sock[0] == '/')
		return sock;
	return NULL;
}

/*
 * Open directory path, following no symbolic link in any component:
 * each one is opened with O_NOFOLLOW from the one before. With mkdir,
 * the last component is created (0700) if missing. A descriptor or -1.
 */
static int
open_dir_nofollow(const char *path, bool mkdir_last)
{
	const int fl = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	char *copy = strdup(path), *save = NULL, *comp, *next;
	int fd = open(path[0] == '/' ? "/" : ".", fl);

	if (copy == NULL || strspn(path, "/") == strlen(path)) {
		/* "" or "/": no directory of ours to hand over. */
		free(copy);
		errno = EINVAL;
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (comp = strtok_r(copy, "/", &save); fd >= 0 && comp != NULL;
	    comp = next) {
		int nfd;

		next = strtok_r(NULL, "/", &save);
		if (next == NULL && mkdir_last &&
		    mkdirat(fd, comp, 0700) != 0 && errno != EEXIST)
			nfd = -1;
		else
			nfd = openat(fd, comp, fl);
		close(fd);
		fd = nfd;
	}
	free(copy);
	return fd;
}

/*
 * Become user (when root): the socket and the quarantine directory are
 * handed over first (the directory by descriptor, reached without
 * following a symbolic link, so a link planted in its path cannot make
 * root chown something else). Then: no supplementary groups, setgid
 * before setuid, each checked, and no way back (setuid(0) must fail,
 * PR_SET_NO_NEW_PRIVS so no exec can gain privileges again).
 * Refuses to go on as root.
 */
static bool
drop_privileges(const char *user, const char *sock, const char *qdir)
{
	struct passwd *pw;
	const char *up;
	int qfd;
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		goto no_new_privs;
	if (user == NULL || user[0] == '\0' || (pw = getpwnam(user)) == NULL) {
		emf_log(EMF_LOG_ERR, "no such user \"%s\": refusing to run "
		    "as root", user != NULL ? user : "");
		return false;
	}
	if (pw->pw_uid == 0) {
		emf_log(EMF_LOG_ERR, "user %s is root: refusing", user);
		return false;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if ((up = unix_path(sock)) != NULL &&
	    (lchown(up, uid, gid) != 0 || chmod(up, 0660) != 0))
		emf_log(EMF_LOG_WARNING, "%s: %s", up, strerror(errno));
	if ((qfd = open_dir_nofollow(qdir, true)) < 0) {
		emf_log(EMF_LOG_WARNING, "quarantine directory %s: %s (not "
		    "handed over to %s)", qdir, strerror(errno), user);
	} else {
		struct stat st;

		/* Root's and private (not a shared directory like /tmp). */
		/* Its group (the CSIRT group) stays, unless it is root's. */
		if (fstat(qfd, &st) == 0 && st.st_uid == 0 &&
		    (st.st_mode & 022) == 0 && fchown(qfd, uid,
		    st.st_gid == 0 ? gid : (gid_t)-1) != 0)
			emf_log(EMF_LOG_WARNING, "%s: %s", qdir,
			    strerror(errno));
		close(qfd);
	}
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 ||
	    setuid(uid) != 0) {
		emf_log(EMF_LOG_ERR, "cannot become %s: %s", user,
		    strerror(errno));
		return false;
	}
	if (setuid(0) == 0 || setgid(0) == 0 || geteuid() != uid ||
	    getuid() != uid || getegid() != gid || getgid() != gid ||
	    getgroups(0, NULL) != 0) {
		emf_log(EMF_LOG_ERR, "still privileged after dropping to %s",
		    user);
		return false;
	}
no_new_privs:
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		emf_log(EMF_LOG_ERR, "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
		return false;
	}
	return true;
}

/* ---- start-up checks and the pid file ----------------------------------- */

/* Who the daemon runs as once privileges are dropped. */
struct runas {
	uid_t uid;
	gid_t gid;
	char name[64];
	bool root;		/* started as root: creates and hands over */
	gid_t groups[64];	/* the user's groups, for access checks */
	int ngroups;
};

/* False with a message when user cannot be the run user. */
static bool
runas_get(const char *user, struct runas *ra, char *why, size_t n)
{
	struct passwd *pw;

	memset(ra, 0, sizeof(*ra));
	ra->root = geteuid() == 0;
	if (ra->root) {
		if (user == NULL || user[0] == '\0' ||
		    (pw = getpwnam(user)) == NULL) {
			snprintf(why, n, "no such user \"%s\" (milter.user or "
			    "-u): refusing to run as root",
			    user != NULL ? user : "");
			return false;
		}
		if (pw->pw_uid == 0) {
			snprintf(why, n, "user %s is root: refusing", user);
			return false;
		}
	} else if ((pw = getpwuid(geteuid())) == NULL) {
		snprintf(why, n, "uid %ld has no passwd entry", (long)geteuid());
		return false;
	}
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	snprintf(ra->name, sizeof(ra->name), "%s", pw->pw_name);
	ra->ngroups = (int)(sizeof(ra->groups) / sizeof(ra->groups[0]));
	if (getgrouplist(pw->pw_name, pw->pw_gid, ra->groups,
	    &ra->ngroups) < 0) {
		ra->groups[0] = pw->pw_gid;
		ra->ngroups = 1;
	}
	return true;
}

/* The user can create and remove entries in directory st. */
static bool
dir_writable(const struct stat *st, const struct runas *ra)
{
	const mode_t wx_u = S_IWUSR | S_IXUSR, wx_g = S_IWGRP | S_IXGRP;

	if (st->st_uid == ra->uid)
		return (st->st_mode & wx_u) == wx_u;
	for (int i = 0; i < ra->ngroups; i++)
		if (ra->groups[i] == st->st_gid)
			return (st->st_mode & wx_g) == wx_g;
	return (st->st_mode & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH);
}

static const char *
owner_name(uid_t uid, char *buf, size_t n)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, n, "%s", pw->pw_name);
	else
		snprintf(buf, n, "uid %ld", (long)uid);
	return buf;
}

/* The directory part of path ("." when there is none). */
static void
dir_of(const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, n, ".");
	else if (slash == path)
		snprintf(buf, n, "/");
	else
		snprintf(buf, n, "%.*s", (int)(slash - path), path);
}

/* The pid in a pid file that another process holds locked, else 0. */
static long
pidfile_holder(const char *path)
{
	char buf[32];
	ssize_t r;
	long pid = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return 0;
	}
	if ((r = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[r] = '\0';
		pid = strtol(buf, NULL, 10);
	}
	close(fd);
	return pid > 0 ? pid : -1;
}

/*
 * Something accepts connections on the socket now: 1 yes, 0 no (for a
 * unix socket: nobody listens, or it does not exist), -1 not checked.
 */
static int
socket_in_use(const char *sock)
{
	const char *up = unix_path(sock);
	struct sockaddr_un sa;
	int fd, r;

	if (up == NULL)
		return -1;
	if (strlen(up) >= sizeof(sa.sun_path))
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, up, strlen(up));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0 ? 1 : 0;
}

static void
t_line(bool ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
t_line(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("emofilter: %s: %s", what, ok ? "" : "ERROR: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* -t: the pid file and its directory. Returns the number of errors. */
static int
check_pidfile(const char *pidfile, const struct runas *ra)
{
	char dir[4096], who[64];
	struct stat st;
	long holder;

	if (pidfile[0] == '\0') {
		t_line(true, "pid file", "none (milter.pidfile = \"\"): a "
		    "second instance is not stopped by a lock");
		return 0;
	}
	dir_of(pidfile, dir, sizeof(dir));
	if (stat(dir, &st) != 0) {
		if (errno == ENOENT && ra->root) {
			t_line(true, pidfile, "directory %s will be created "
			    "(owner %s, mode 0755)", dir, ra->name);
			return 0;
		}
		t_line(false, pidfile, "directory %s: %s; create it: install "
		    "-d -o %s -m 0755 %s (or start as root, or set "
		    "milter.pidfile)", dir, strerror(errno), ra->name, dir);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		t_line(false, pidfile, "%s is not a directory", dir);
		return 1;
	}
	if ((holder = pidfile_holder(pidfile)) != 0) {
		t_line(true, pidfile, "locked by the running emofilter "
		    "(pid %ld): a second start refuses", holder);
		return 0;
	}
	if (!dir_writable(&st, ra)) {
		if (ra->root) {
			t_line(true, pidfile, "directory %s (owner %s) is not "
			    "writable by %s: the pid file is created as root "
			    "and left behind at exit", dir,
			    owner_name(st.st_uid, who, sizeof(who)), ra->name);
			return 0;
		}
		t_line(false, pidfile, "directory %s (owner %s) is not "
		    "writable by %s: chown %s %s", dir,
		    owner_name(st.st_uid, who, sizeof(who)), ra->name,
		    ra->name, dir);
		return 1;
	}
	t_line(true, pidfile, "OK (directory %s, owner %s)", dir,
	    owner_name(st.st_uid, who, sizeof(who)));
	return 0;
}

/* -t: the listening socket. */
static int
check_socket(const char *sock, const struct runas *ra, bool running)
{
	const char *up = unix_path(sock);
	char dir[4096], who[64];
	struct stat st;
	int use;

	if (up == NULL) {
		if (strncmp(sock, "inet:", 5) != 0 &&
		    strncmp(sock, "inet6:", 6) != 0) {
			t_line(false, sock, "not unix:/path, inet:port@host "
			    "or inet6:port@host");
			return 1;
		}
		t_line(true, sock, "%s (checked when the daemon binds it)",
		    strncmp(sock, "inet6:", 6) == 0 ? "IPv6" : "IPv4");
		return 0;
	}
	dir_of(up, dir, sizeof(dir));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		t_line(false, sock, "directory %s does not exist: create it "
		    "(install -d -o %s -m 0750 %s)", dir, ra->name, dir);
		return 1;
	}
	if (!ra->root && !dir_writable(&st, ra)) {
		t_line(false, sock, "directory %s (owner %s) is not writable "
		    "by %s", dir, owner_name(st.st_uid, who, sizeof(who)),
		    ra->name);
		return 1;
	}
	if (lstat(up, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		t_line(false, sock, "%s exists and is not a socket", up);
		return 1;
	}
	use = socket_in_use(sock);
	if (use == 1 && !running) {
		t_line(false, sock, "another process listens on %s", up);
		return 1;
	}
	t_line(true, sock, "OK (%s)", use == 1 ? "in use by the running "
	    "emofilter" : "free");
	return 0;
}

/* -t: the quarantine directory. */
static int
check_qdir(const char *qdir, const struct runas *ra)
{
	char dir[4096], who[64];
	struct stat st;

	if (stat(qdir, &st) != 0) {
		dir_of(qdir, dir, sizeof(dir));
		if (errno == ENOENT && stat(dir, &st) == 0 &&
		    (ra->root || dir_writable(&st, ra))) {
			t_line(true, "quarantine", "%s will be created (owner "
			    "%s, mode 0700)", qdir, ra->name);
			return 0;
		}
		t_line(false, "quarantine", "%s: %s; create it: install -d -o "
		    "%s -m 0750 %s", qdir, strerror(errno), ra->name, qdir);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		t_line(false, "quarantine", "%s is not a directory", qdir);
		return 1;
	}
	if (st.st_uid != ra->uid && !(ra->root && st.st_uid == 0)) {
		t_line(false, "quarantine", "%s is owned by %s, not by %s: "
		    "chown %s %s", qdir, owner_name(st.st_uid, who,
		    sizeof(who)), ra->name, ra->name, qdir);
		return 1;
	}
	if ((st.st_mode & 0027) != 0) {
		t_line(false, "quarantine", "%s has mode %04o: %s (chmod 2750, "
		    "group the CSIRT group)", qdir,
		    (unsigned)(st.st_mode & 07777), (st.st_mode & 0007) ?
		    "others may read malware and private mail" :
		    "its group may change the quarantine");
		return 1;
	}
	t_line(true, "quarantine", "OK (%s, owner %s, mode %04o)", qdir,
	    st.st_uid == 0 ? "root, handed to the run user at start" :
	    ra->name, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* -t after the configuration: what start-up would meet. */
static int
check_runtime(const struct opts *o, const struct emf_cfg *cfg)
{
	const char *sock = o->sock != NULL ? o->sock :
	    emf_cfg_str(cfg, "milter.socket");
	const char *user = o->user != NULL ? o->user :
	    emf_cfg_str(cfg, "milter.user");
	const char *pidfile = emf_cfg_str(cfg, "milter.pidfile");
	struct runas ra;
	char why[256];
	int errs = 0;

	if (!runas_get(user, &ra, why, sizeof(why))) {
		t_line(false, "user", "%s", why);
		return 1;
	}
	t_line(true, "user", "runs as %s (uid %ld)%s", ra.name, (long)ra.uid,
	    ra.root ? ", after opening the socket as root" : "");
	errs += check_pidfile(pidfile, &ra);
	errs += check_socket(sock, &ra, pidfile[0] != '\0' &&
	    pidfile_holder(pidfile) != 0);
	errs += check_qdir(emf_cfg_str(cfg, "quarantine.dir"), &ra);
	if (emf_cfg_str(cfg, "metrics.listen")[0] != '\0')
		t_line(true, "metrics", "GET http://%s/metrics (opened at "
		    "start)", emf_cfg_str(cfg, "metrics.listen"));
	return errs;
}

/* The pid file, locked while this daemon runs (its children share it). */
static int pid_fd = -1;
static char *pid_path;

/*
 * Take the pid file before anything else touches the system: its
 * directory is created when started as root (owned by the run user),
 * and a pid file locked by a running daemon stops this one here, before
 * the socket is opened, so the running daemon keeps both.
 */
static bool
pidfile_lock(const char *path, const struct runas *ra)
{
	char dir[4096];
	struct stat st;
	long holder;
	int fd;

	if (path == NULL || path[0] == '\0')
		return true;
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) != 0) {
		if (errno != ENOENT || !ra->root) {
			emf_log(EMF_LOG_ERR, "pid file %s: directory %s: %s; "
			    "create it (install -d -o %s -m 0755 %s), start "
			    "as root, or set milter.pidfile", path, dir,
			    strerror(errno), ra->name, dir);
			return false;
		}
		if (mkdir(dir, 0755) != 0 || chmod(dir, 0755) != 0 ||
		    chown(dir, ra->uid, ra->gid) != 0) {
			emf_log(EMF_LOG_ERR, "pid file %s: cannot create %s: "
			    "%s", path, dir, strerror(errno));
			return false;
		}
		emf_log(EMF_LOG_INFO, "created %s (owner %s)", dir, ra->name);
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		emf_log(EMF_LOG_ERR, "pid file %s: %s", path, strerror(errno));
		return false;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		if (errno != EWOULDBLOCK) {
			emf_log(EMF_LOG_ERR, "pid file %s: lock: %s", path,
			    strerror(errno));
			return false;
		}
		holder = pidfile_holder(path);
		emf_log(EMF_LOG_ERR, "already running (pid %ld holds %s): "
		    "not starting; the running daemon keeps its socket and "
		    "pid file", holder, path);
		return false;
	}
	if (ra->root && fchown(fd, ra->uid, ra->gid) != 0)
		emf_log(EMF_LOG_WARNING, "pid file %s: %s", path,
		    strerror(errno));
	pid_fd = fd;
	pid_path = strdup(path);
	return true;
}

/* The pid (after daemon()) into the locked file. */
static bool
pidfile_write(void)
{
	char buf[32];
	int n;

	if (pid_fd < 0)
		return true;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pid_fd, 0) != 0 || pwrite(pid_fd, buf, (size_t)n, 0) !=
	    n) {
		emf_log(EMF_LOG_ERR, "pid file %s: %s", pid_path,
		    strerror(errno));
		return false;
	}
	return true;
}

/* Ours (we hold the lock): remove it. */
static void
pidfile_release(void)
{
	if (pid_fd < 0)
		return;
	if (unlink(pid_path) != 0 && errno != ENOENT)
		emf_log(EMF_LOG_WARNING, "pid file %s: %s", pid_path,
		    strerror(errno));
	close(pid_fd);
	pid_fd = -1;
	free(pid_path);
	pid_path = NULL;
}

/*
 * A unix socket another process listens on is never replaced (mp_listen
 * would remove it), nor a file that is not a socket.
 */
static bool
socket_takeover_ok(const char *sock)
{
	const char *up = unix_path(sock);
	struct stat st;

	if (up == NULL || lstat(up, &st) != 0)
		return true;
	if (!S_ISSOCK(st.st_mode)) {
		emf_log(EMF_LOG_ERR, "%s exists and is not a socket: not "
		    "replacing it", up);
		return false;
	}
	if (socket_in_use(sock) == 1) {
		emf_log(EMF_LOG_ERR, "another process listens on %s: not "
		    "starting, not replacing it", up);
		return false;
	}
	return true;
}

/* The metrics endpoint's socket (-1: off), served by the milter process. */
static int metrics_fd = -1;

/* Fork the milter process. */
static pid_t
spawn_milter(const char *conf, struct emf_pool *pool)
{
	pid_t pid = fork();
	struct emf_cfg *cfg;
	struct emf_error err;

	if (pid != 0) {
		if (pid < 0)
			emf_log(EMF_LOG_ERR, "fork: %s", strerror(errno));
		else
			emf_log(EMF_LOG_INFO, "milter process started, pid %ld",
			    (long)pid);
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	emf_pool_client_init(pool);
	if (emf_cfg_load(conf, &cfg, &err) != EMF_OK) {
		emf_log(EMF_LOG_ERR, "%s", err.msg);
		_exit(1);
	}
	/*
	 * The signal mask is inherited blocked: mproto.c's signal
	 * thread sigwaits SIGTERM/SIGHUP/SIGINT (stop), ours SIGUSR1 (reload).
	 */
	emf_metrics_start(metrics_fd, emf_milter_inflight);
	_exit(emf_milter_run(conf, emf_mconf_new(cfg), pool));
}

/* SIGHUP: a new engine, checked before anything is replaced. */
static void
reload(const char *conf, struct emf_engine **engine, struct emf_pool *pool,
    pid_t milter)
{
	struct emf_engine *ne;
	struct emf_error err;

	if (!build(conf, &ne, &err)) {
		emf_log(EMF_LOG_ERR, "reload failed, keeping the running "
		    "configuration: %s", err.msg);
		return;
	}
	if (emf_pool_auto_workers(emf_cfg_int(emf_engine_cfg(ne),
	    "milter.workers")) != emf_pool_size(pool))
		emf_log(EMF_LOG_WARNING, "reload: milter.workers changes "
		    "need a restart");
	emf_engine_unref(*engine);
	*engine = ne;
	/* Workers finish their scan, exit, and are refilled with ne. */
	emf_pool_retire(pool);
	if (milter > 0)
		kill(milter, SIGUSR1);
	emf_log(EMF_LOG_INFO, "reloaded %s", conf_name(conf));
}

static int
serve(const struct opts *o, struct emf_engine *engine)
{
	const struct emf_cfg *cfg = emf_engine_cfg(engine);
	struct emf_pool *pool;
	sigset_t set;
	pid_t milter;
	bool stopping = false;
	time_t last_spawn = 0;
	pid_t expirer = 0;		/* the state's timer (correlate.h) */
	time_t next_expire = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	{
		unsigned nw = emf_pool_auto_workers(emf_cfg_int(cfg,
		    "milter.workers"));

		pool = emf_pool_new(nw, emf_pool_auto_queue(emf_cfg_int(cfg,
		    "milter.queue"), nw));
	}
	if (pool == NULL) {
		emf_log(EMF_LOG_ERR, "worker pool: %s", strerror(errno));
		return 1;
	}
	emf_pool_fill(pool, engine);
	milter = spawn_milter(o->conf, pool);
	last_spawn = time(NULL);
	for (;;) {
		siginfo_t si;
		struct timespec ts = { 1, 0 };
		int sig = sigtimedwait(&set, &si, &ts);
		pid_t pid;
		int st;

		if (sig == SIGHUP && !stopping) {
			reload(o->conf, &engine, pool, milter);
		} else if (sig == SIGTERM || sig == SIGINT) {
			if (!stopping)
				emf_log(EMF_LOG_INFO, "stopping");
			stopping = true;
			if (milter > 0)
				kill(milter, SIGTERM);
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (pid == expirer) {
				expirer = 0;
			} else if (pid == milter) {
				milter = 0;
				if (!stopping) {
					emf_log(EMF_LOG_WARNING, "milter process "
					    "ended (status %d)", st);
					emf_metrics_milter_restart();
				}
			} else {
				if (!stopping && (WIFSIGNALED(st) ||
				    WEXITSTATUS(st) != 0))
					emf_metrics_worker_restart();
				emf_pool_reaped(pool, pid, st);
			}
		}
		if (stopping) {
			if (milter == 0 && emf_pool_live(pool) == 0 &&
			    expirer == 0)
				break;
			if (milter == 0)
				emf_pool_retire(pool);
			continue;
		}
		emf_pool_fill(pool, engine);
		expirer = emf_mexpire_tick(engine, expirer, &next_expire);
		/* Replace a dead milter process, at most once a second. */
		if (milter == 0 && time(NULL) != last_spawn) {
			milter = spawn_milter(o->conf, pool);
			last_spawn = time(NULL);
		}
	}
	emf_pool_free(pool);
	emf_engine_unref(engine);
	emf_log(EMF_LOG_INFO, "stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { 0 };
	struct emf_engine *engine;
	struct emf_error err;
	const struct emf_cfg *cfg;
	struct runas ra;
	char why[256];
	char *pidfile;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:tfp:u:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': o.conf = optarg; break;
		case 't': o.check = true; break;
		case 'f': o.fg = true; break;
		case 'p': o.sock = optarg; break;
		case 'u': o.user = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("emofilter %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.conf == NULL && !default_conf(&o.conf))
		return 1;
	if (emf_library_init() != EMF_OK) {
		fprintf(stderr, "emofilter: library initialisation failed\n");
		return 1;
	}
	if (o.check) {
		if (o.conf != NULL)
			printf("emofilter: configuration file %s\n", o.conf);
		else
			printf("emofilter: no configuration file (%s/"
			    "emofilter.conf does not exist): built-in "
			    "defaults\n", EMF_SYSCONFDIR);
	}
	if (!build(o.conf, &engine, &err)) {
		fprintf(stderr, "emofilter: %s\n", err.msg);
		return 1;
	}
	if (o.check) {
		printf("emofilter: %s: configuration and rules OK\n",
		    conf_name(o.conf));
		rc = check_runtime(&o, emf_engine_cfg(engine)) == 0 ? 0 : 1;
		emf_engine_unref(engine);
		return rc;
	}
	cfg = emf_engine_cfg(engine);
	if (o.sock == NULL)
		o.sock = emf_cfg_str(cfg, "milter.socket");
	if (o.user == NULL)
		o.user = emf_cfg_str(cfg, "milter.user");
	pidfile = strdup(emf_cfg_str(cfg, "milter.pidfile"));	/* outlives reloads */
	emf_pool_set_test_hooks(getenv("EMOFILTER_TEST_HOOKS") != NULL &&
	    strcmp(getenv("EMOFILTER_TEST_HOOKS"), "1") == 0);
	/* Start-up errors reach the terminal too (stderr is /dev/null after
	 * daemon()). */
	openlog("emofilter", LOG_PID | LOG_NDELAY | LOG_PERROR, LOG_MAIL);
	emf_log_set_sink(log_sink, NULL);
	if (!runas_get(o.user, &ra, why, sizeof(why))) {
		emf_log(EMF_LOG_ERR, "%s", why);
		return 1;
	}
	if (!pidfile_lock(pidfile, &ra))
		return 1;
	if (!socket_takeover_ok(o.sock)) {
		pidfile_release();
		return 1;
	}
	/* Off unless metrics.listen is set; a bad or taken address stops
	 * the start. */
	if (emf_cfg_str(cfg, "metrics.listen")[0] != '\0') {
		if (!emf_metrics_init()) {
			emf_log(EMF_LOG_ERR, "metrics: %s", strerror(errno));
			pidfile_release();
			return 1;
		}
		if (!emf_metrics_listen(emf_cfg_str(cfg, "metrics.listen"),
		    &metrics_fd, why, sizeof(why))) {
			emf_log(EMF_LOG_ERR, "%s", why);
			pidfile_release();
			return 1;
		}
	}
	/* The group may connect to a unix socket; others may not. */
	umask(007);
	if (!emf_milter_setup(o.sock, &err)) {
		emf_log(EMF_LOG_ERR, "%s", err.msg);
		pidfile_release();
		return 1;
	}
	if (!drop_privileges(o.user, o.sock, emf_cfg_str(cfg,
	    "quarantine.dir"))) {
		pidfile_release();
		return 1;
	}
	/* 027: new quarantine directories keep the group's r-x (and the
	 * setgid bit they inherit, which a chmod of ours would drop). */
	umask(027);
	if (!o.fg && daemon(0, 0) != 0) {
		emf_log(EMF_LOG_ERR, "daemon: %s", strerror(errno));
		pidfile_release();
		return 1;
	}
	if (!pidfile_write()) {
		pidfile_release();
		return 1;
	}
	emf_log(EMF_LOG_INFO, "emofilter %s listening on %s (%s), %u "
	    "workers, queue %u", PACKAGE_VERSION, o.sock, conf_name(o.conf),
	    emf_pool_auto_workers(emf_cfg_int(cfg, "milter.workers")),
	    emf_pool_auto_queue(emf_cfg_int(cfg, "milter.queue"),
	    emf_pool_auto_workers(emf_cfg_int(cfg, "milter.workers"))));
	rc = serve(&o, engine);
	pidfile_release();
	free(pidfile);
	emf_library_shutdown();
	return rc;
}
