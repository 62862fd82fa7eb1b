// Package pgtest gives tests PostgreSQL databases: a throwaway cluster of
// the machine's PostgreSQL binaries (initdb and pg_ctl into a temporary
// directory, on a free loopback port, owned by an unprivileged user), and a
// fresh database per test on the server RAMCONSOLE_TEST_DATABASE names.
//
// Nothing here skips: a machine without PostgreSQL's binaries is a failure
// that says what to install.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvServer names the environment variable holding a postgres:// URL of a
// server where tests may create databases. When it is set, the store and
// web tests run on PostgreSQL.
const EnvServer = "RAMCONSOLE_TEST_DATABASE"

// Install is what a machine without PostgreSQL's binaries is told.
const Install = "install Debian's postgresql (apt-get install postgresql): the tests start their own PostgreSQL clusters with its initdb and pg_ctl"

// Binaries finds initdb and pg_ctl: on PATH, else in the newest
// /usr/lib/postgresql/<version>/bin (where Debian keeps them).
func Binaries() (initdb, pgctl string, err error) {
	if i, err1 := exec.LookPath("initdb"); err1 == nil {
		if p, err2 := exec.LookPath("pg_ctl"); err2 == nil {
			return i, p, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(a, b int) bool { return version(dirs[a]) > version(dirs[b]) })
	for _, d := range dirs {
		i, p := filepath.Join(d, "initdb"), filepath.Join(d, "pg_ctl")
		if isExec(i) && isExec(p) {
			return i, p, nil
		}
	}
	return "", "", errors.New("initdb and pg_ctl not found: " + Install)
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	// URL is a superuser's postgres:// URL of its "postgres" database.
	URL   string
	dir   string
	pgctl string
	uid   int // the unprivileged user it runs as (-1: this process's)
}

// Start initialises and starts a cluster in a new temporary directory.
// As root, it runs as the user "nobody" (initdb refuses root), in a
// directory under os.TempDir() that user owns.
func Start() (*Cluster, error) {
	initdb, pgctl, err := Binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ramconsole-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, pgctl: pgctl, uid: -1}
	fail := func(err error) (*Cluster, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return fail(fmt.Errorf("pgtest: running as root, and there is no user nobody to run PostgreSQL as: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
		c.uid = uid
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pgtest: initdb: %v: %s", err, out))
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	// Settings for tests: nothing here must survive a crash of the
	// machine, so PostgreSQL need not wait for the disk (fsync off); it
	// must survive PostgreSQL's own crash (an outage test stops it with
	// -m immediate), so commits are still written before they are
	// acknowledged (synchronous_commit stays on).
	opts := strings.Join([]string{"-c listen_addresses=127.0.0.1", "-p " + strconv.Itoa(port), "-c unix_socket_directories=" + dir,
		"-c fsync=off", "-c full_page_writes=off", "-c max_connections=300",
		"-c shared_buffers=64MB", "-c log_min_messages=fatal"}, " ")
	if out, err := c.run(pgctl, "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return fail(fmt.Errorf("pgtest: pg_ctl start: %v: %s\n%s", err, out, log))
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return c, nil
}

// run prepares a command as the cluster's user.
func (c *Cluster) run(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	if c.uid >= 0 {
		u, _ := user.LookupId(strconv.Itoa(c.uid))
		gid := uint32(65534)
		if u != nil {
			if g, err := strconv.Atoi(u.Gid); err == nil {
				gid = uint32(g)
			}
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(c.uid), Gid: gid, NoSetGroups: true}}
		cmd.Env = append(os.Environ(), "HOME="+c.dir)
	}
	return cmd
}

// Stop stops the cluster at once and removes its directory.
func (c *Cluster) Stop() error {
	out, err := c.run(c.pgctl, "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput()
	if err != nil {
		err = fmt.Errorf("pgtest: pg_ctl stop: %v: %s", err, out)
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

// StopServer stops the server but keeps its data (StartServer starts it
// again): a database outage.
func (c *Cluster) StopServer() error {
	out, err := c.run(c.pgctl, "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// StartServer starts a server StopServer stopped.
func (c *Cluster) StartServer() error {
	u, _ := url.Parse(c.URL)
	opts := strings.Join([]string{"-c listen_addresses=127.0.0.1", "-p " + u.Port(), "-c unix_socket_directories=" + c.dir,
		"-c fsync=off", "-c full_page_writes=off", "-c max_connections=300",
		"-c shared_buffers=64MB", "-c log_min_messages=fatal"}, " ")
	out, err := c.run(c.pgctl, "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl start: %v: %s", err, out)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartCluster starts a cluster for one test, stopped at its cleanup.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// Server is the URL of a server where the test may create databases:
// RAMCONSOLE_TEST_DATABASE's, or a cluster started for this test.
func Server(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvServer); u != "" {
		return u
	}
	return StartCluster(t).URL
}

// Database is the URL of the database a test should store in:
// empty (SQLite in the data directory) unless RAMCONSOLE_TEST_DATABASE is
// set, and then a fresh database on that server, dropped at cleanup.
func Database(t testing.TB) string {
	t.Helper()
	server := os.Getenv(EnvServer)
	if server == "" {
		return ""
	}
	return NewDatabase(t, server)
}

// NewDatabase creates a database with a random name on the server at
// serverURL and returns its URL; it is dropped at the test's cleanup.
func NewDatabase(t testing.TB, serverURL string) string {
	t.Helper()
	u, name, err := CreateDatabase(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := DropDatabase(serverURL, name); err != nil {
			t.Error(err)
		}
	})
	return u
}

// CreateDatabase creates a database with a random name on the server at
// serverURL; it returns its URL and name.
func CreateDatabase(serverURL string) (dbURL, name string, err error) {
	var b [8]byte
	rand.Read(b[:])
	name = "ramconsole_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", "", fmt.Errorf("pgtest: %s: %w", EnvServer, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8' STRATEGY FILE_COPY"); err != nil {
		return "", "", fmt.Errorf("pgtest: create database: %w", err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", "", err
	}
	u.Path = "/" + name
	return u.String(), name, nil
}

// DropDatabase drops a database CreateDatabase made, closing what is still
// connected to it.
func DropDatabase(serverURL, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("pgtest: drop database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop database: %w", err)
	}
	return nil
}
