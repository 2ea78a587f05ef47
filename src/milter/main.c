/*
 * emofilter - the milter daemon.
 *
 * emofilter [-c CONF] [-t] [-f] [-p SOCKET] [-u USER]
 *
 * Processes: the main process (single-threaded) opens the socket, drops
 * privileges, builds the engine, forks the scanner workers and the milter
 * process, and stays to reap and replace them. It owns the signals the
 * admin sends: SIGHUP reloads (a new engine is built and checked here
 * first; workers are replaced after their current scan; a bad config
 * keeps everything as it was), SIGTERM stops (the milter process drains
 * its in-flight messages, then the workers go). The milter process runs
 * libmilter's threads and never forks. See emofilter(8).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
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
	    "  -c CONF    configuration (default %s/emofilter.conf if it\n"
	    "             exists, else built-in defaults)\n"
	    "  -t         check the configuration and rules, then exit\n"
	    "  -f         stay in the foreground, log to stderr too\n"
	    "  -p SOCKET  listen here: unix:/path or inet:port@host\n"
	    "             (overrides milter.socket)\n"
	    "  -u USER    run as USER after creating the socket (overrides\n"
	    "             milter.user; needed when started as root)\n",
	    EMF_SYSCONFDIR);
}

static const char *
default_conf(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/emofilter.conf", EMF_SYSCONFDIR);
	return access(path, R_OK) == 0 ? path : NULL;
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
		if (fstat(qfd, &st) == 0 && st.st_uid == 0 &&
		    (st.st_mode & 022) == 0 && fchown(qfd, uid, gid) != 0)
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

static bool
write_pidfile(const char *path)
{
	FILE *f;

	if (path == NULL || path[0] == '\0')
		return true;
	if ((f = fopen(path, "w")) == NULL) {
		emf_log(EMF_LOG_ERR, "pid file %s: %s", path, strerror(errno));
		return false;
	}
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0;
}

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
	 * The signal mask is inherited blocked: libmilter's own signal
	 * thread sigwaits SIGTERM/SIGHUP/SIGINT (stop), ours SIGUSR1 (reload).
	 */
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
	if ((unsigned)emf_cfg_int(emf_engine_cfg(ne), "milter.workers") !=
	    emf_pool_size(pool))
		emf_log(EMF_LOG_WARNING, "reload: milter.workers changes "
		    "need a restart");
	emf_engine_unref(*engine);
	*engine = ne;
	/* Workers finish their scan, exit, and are refilled with ne. */
	emf_pool_retire(pool);
	if (milter > 0)
		kill(milter, SIGUSR1);
	emf_log(EMF_LOG_INFO, "reloaded %s", conf != NULL ? conf :
	    "built-in defaults");
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

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pool = emf_pool_new((unsigned)emf_cfg_int(cfg, "milter.workers"));
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
			if (pid == milter) {
				milter = 0;
				if (!stopping)
					emf_log(EMF_LOG_WARNING, "milter process "
					    "ended (status %d)", st);
			} else {
				emf_pool_reaped(pool, pid, st);
			}
		}
		if (stopping) {
			if (milter == 0 && emf_pool_live(pool) == 0)
				break;
			if (milter == 0)
				emf_pool_retire(pool);
			continue;
		}
		emf_pool_fill(pool, engine);
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
	struct opts o = { 0 };
	struct emf_engine *engine;
	struct emf_error err;
	const struct emf_cfg *cfg;
	char *pidfile;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:tfp:u:h")) != -1) {
		switch (ch) {
		case 'c': o.conf = optarg; break;
		case 't': o.check = true; break;
		case 'f': o.fg = true; break;
		case 'p': o.sock = optarg; break;
		case 'u': o.user = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.conf == NULL)
		o.conf = default_conf();
	if (emf_library_init() != EMF_OK) {
		fprintf(stderr, "emofilter: library initialisation failed\n");
		return 1;
	}
	if (!build(o.conf, &engine, &err)) {
		fprintf(stderr, "emofilter: %s\n", err.msg);
		return 1;
	}
	if (o.check) {
		printf("emofilter: %s: configuration and rules OK\n",
		    o.conf != NULL ? o.conf : "built-in defaults");
		emf_engine_unref(engine);
		return 0;
	}
	cfg = emf_engine_cfg(engine);
	if (o.sock == NULL)
		o.sock = emf_cfg_str(cfg, "milter.socket");
	if (o.user == NULL)
		o.user = emf_cfg_str(cfg, "milter.user");
	pidfile = strdup(emf_cfg_str(cfg, "milter.pidfile"));	/* outlives reloads */
	emf_pool_set_test_hooks(getenv("EMOFILTER_TEST_HOOKS") != NULL &&
	    strcmp(getenv("EMOFILTER_TEST_HOOKS"), "1") == 0);
	openlog("emofilter", LOG_PID | LOG_NDELAY | (o.fg ? LOG_PERROR : 0),
	    LOG_MAIL);
	emf_log_set_sink(log_sink, NULL);
	/* The group may connect to a unix socket; others may not. */
	umask(007);
	if (!emf_milter_setup(o.sock, &err)) {
		emf_log(EMF_LOG_ERR, "%s", err.msg);
		return 1;
	}
	if (!drop_privileges(o.user, o.sock, emf_cfg_str(cfg,
	    "quarantine.dir")))
		return 1;
	umask(077);
	if (!o.fg && daemon(0, 0) != 0) {
		emf_log(EMF_LOG_ERR, "daemon: %s", strerror(errno));
		return 1;
	}
	if (!write_pidfile(pidfile))
		return 1;
	emf_log(EMF_LOG_INFO, "listening on %s (%s), %lld workers",
	    o.sock, o.conf != NULL ? o.conf : "built-in defaults",
	    emf_cfg_int(cfg, "milter.workers"));
	rc = serve(&o, engine);
	if (pidfile[0] != '\0')
		unlink(pidfile);
	free(pidfile);
	emf_library_shutdown();
	return rc;
}
