// Package tornet starts a private Tor network on loopback for tests: three
// directory authorities, three relays, one client and one tor per onion
// service, all Debian's tor (and tor-gencert for the authorities' keys) on
// free ports of 127.0.0.1 with TestingTorNetwork set. Nothing leaves the
// machine. Only _test.go files import it.
//
// Every tor is a child of the test process, named its owning controller
// (so it exits by itself if the test process dies) and stopped by Close.
// Readiness is probed, never slept for: the authorities' consensus must
// list every relay, the client must report 100% bootstrapped, and an onion
// service must answer through the client.
package tornet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultTimeout bounds Start when Options.Timeout is zero. A network
// usually comes up in 19–30 s; the margin is for a loaded machine.
const DefaultTimeout = 4 * time.Minute

// InstallHint is the command that installs the binaries this package runs.
const InstallHint = "apt-get install -y tor"

const (
	numAuthorities = 3
	numRelays      = 3
	// logTailLines is how much of each tor's log a start-up error carries.
	logTailLines = 12
	// maxAttempts bounds the start-ups retried because a port was taken.
	maxAttempts = 3
)

// Options configure Start.
type Options struct {
	// Dir holds every tor's data directory; a new temporary directory,
	// removed by Close, when empty.
	Dir string
	// Timeout bounds the whole start-up; DefaultTimeout when zero.
	Timeout time.Duration
	// Logf receives progress lines (phases and their durations); none when
	// nil. testing.TB's Logf fits.
	Logf func(format string, args ...any)
}

// Network is a running private Tor network.
type Network struct {
	dir     string
	ownDir  bool
	tor     string
	logf    func(string, ...any)
	authLns []string // the DirAuthority lines every torrc carries

	auths  []*node
	relays []*node
	client *Client

	mu     sync.Mutex
	onions []*Onion
	closed bool

	// StartupTime is how long Start took, from the first key to a
	// bootstrapped client.
	StartupTime time.Duration
	// Attempts is how many start-ups it took (more than one when a port
	// was taken by another process meanwhile).
	Attempts int
}

// Start brings a network up and returns once the consensus lists all six
// relays and the client is bootstrapped. When
// tor or tor-gencert is missing the error says how to install them. On any
// failure every tor started so far is stopped, and the error carries the
// tail of each tor's log.
func Start(ctx context.Context, opts Options) (*Network, error) {
	begin := time.Now()
	torBin, err := lookPath("tor")
	if err != nil {
		return nil, fmt.Errorf("tornet: tor not found (install it: %s): %w", InstallHint, err)
	}
	gencert, err := lookPath("tor-gencert")
	if err != nil {
		return nil, fmt.Errorf("tornet: tor-gencert not found (install it: %s): %w", InstallHint, err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	n := &Network{dir: opts.Dir, tor: torBin, logf: opts.Logf}
	if n.logf == nil {
		n.logf = func(string, ...any) {}
	}
	if n.dir == "" {
		if n.dir, err = os.MkdirTemp("", "tornet-"); err != nil {
			return nil, fmt.Errorf("tornet: temp dir: %w", err)
		}
		n.ownDir = true
	}
	for attempt := 1; ; attempt++ {
		n.Attempts = attempt
		err := n.start(ctx, gencert)
		if err == nil {
			break
		}
		tails := n.logTails()
		// Ports are picked free but bound only later by the tors, so
		// another process may take one meanwhile: start again on new ones.
		if attempt < maxAttempts && ctx.Err() == nil && strings.Contains(tails, "Address already in use") {
			n.logf("tornet: attempt %d: a port was taken (%v); starting again on new ports", attempt, err)
			if err := n.reset(); err != nil {
				n.Close()
				return nil, fmt.Errorf("tornet: start: %w", err)
			}
			continue
		}
		err = fmt.Errorf("tornet: start after %s: %w%s", time.Since(begin).Round(time.Millisecond), err, tails)
		n.Close()
		return nil, err
	}
	n.StartupTime = time.Since(begin)
	n.logf("tornet: network up in %s (dir %s)", n.StartupTime.Round(time.Millisecond), n.dir)
	return n, nil
}

// portsHook, when set by a test, may change the ports a start-up uses.
var portsHook func([]int) []int

// binDirs are searched after PATH.
var binDirs = []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}

// reset stops every tor of a failed start and removes their directories.
func (n *Network) reset() error {
	var errs []error
	for _, nd := range n.nodes() {
		if err := nd.stop(); err != nil {
			errs = append(errs, err)
		}
		if err := os.RemoveAll(nd.dir); err != nil {
			errs = append(errs, err)
		}
	}
	n.auths, n.relays, n.client, n.authLns = nil, nil, nil, nil
	return errors.Join(errs...)
}

// lookPath finds a binary on PATH or in the sbin directories, which are
// not on every user's PATH although Debian installs tor there.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range binDirs {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

func (n *Network) start(ctx context.Context, gencert string) error {
	// orPort, dirPort, control for each authority; orPort, control for
	// each relay; socks, extended socks, control for the client.
	ports, err := freePorts(numAuthorities*3 + numRelays*2 + 3)
	if err != nil {
		return err
	}
	if portsHook != nil {
		ports = portsHook(ports)
	}
	next := func() int { p := ports[0]; ports = ports[1:]; return p }

	t0 := time.Now()
	n.authLns = make([]string, numAuthorities)
	keyErrs := make([]error, numAuthorities)
	var wg sync.WaitGroup
	for i := range numAuthorities {
		nd := &node{name: fmt.Sprintf("auth%d", i), orPort: next(), dirPort: next(), ctlPort: next()}
		nd.dir = filepath.Join(n.dir, nd.name)
		n.auths = append(n.auths, nd)
		wg.Go(func() {
			fp, v3, err := n.authorityKeys(ctx, gencert, nd)
			keyErrs[i] = err
			n.authLns[i] = fmt.Sprintf("DirAuthority %s orport=%d no-v2 v3ident=%s 127.0.0.1:%d %s",
				nd.name, nd.orPort, v3, nd.dirPort, fp)
		})
	}
	wg.Wait()
	if err := errors.Join(keyErrs...); err != nil {
		return err
	}
	for i := range numRelays {
		nd := &node{name: fmt.Sprintf("relay%d", i), orPort: next(), ctlPort: next()}
		nd.dir = filepath.Join(n.dir, nd.name)
		n.relays = append(n.relays, nd)
	}
	cl := &node{name: "client", ctlPort: next()}
	cl.dir = filepath.Join(n.dir, cl.name)
	n.client = &Client{n: n, node: cl, socksPort: next(), extPort: next()}
	n.logf("tornet: authority keys in %s", time.Since(t0).Round(time.Millisecond))

	for _, nd := range n.auths {
		if err := n.writeTorrc(nd, n.authorityConf(nd)); err != nil {
			return err
		}
	}
	for _, nd := range n.relays {
		if err := n.writeTorrc(nd, relayConf(nd)); err != nil {
			return err
		}
	}
	if err := n.writeTorrc(cl, n.client.conf()); err != nil {
		return err
	}

	t1 := time.Now()
	for _, nd := range append(append([]*node{}, n.auths...), n.relays...) {
		if err := nd.start(n.tor); err != nil {
			return err
		}
	}
	if err := n.waitConsensus(ctx); err != nil {
		return err
	}
	n.logf("tornet: consensus lists %d relays after %s", numAuthorities+numRelays, time.Since(t1).Round(time.Millisecond))

	t2 := time.Now()
	if err := cl.start(n.tor); err != nil {
		return err
	}
	if err := cl.waitBootstrapped(ctx); err != nil {
		return err
	}
	n.logf("tornet: client bootstrapped after %s", time.Since(t2).Round(time.Millisecond))
	return nil
}

// freePorts returns count distinct free loopback ports, all held open
// together while they are picked so that none is handed out twice.
func freePorts(count int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, count)
	for range count {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// authorityKeys creates an authority's identity, signing key and
// certificate, and returns its relay fingerprint and v3 identity.
func (n *Network) authorityKeys(ctx context.Context, gencert string, nd *node) (fingerprint, v3ident string, err error) {
	keys := filepath.Join(nd.dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		return "", "", fmt.Errorf("%s: %w", nd.name, err)
	}
	cert := filepath.Join(keys, "authority_certificate")
	cmd := exec.CommandContext(ctx, gencert, "--create-identity-key", "--passphrase-fd", "0",
		"-i", filepath.Join(keys, "authority_identity_key"),
		"-s", filepath.Join(keys, "authority_signing_key"),
		"-c", cert, "-m", "12", "-a", fmt.Sprintf("127.0.0.1:%d", nd.dirPort))
	cmd.Stdin = strings.NewReader("precwatch-tornet\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("%s: tor-gencert: %w: %s", nd.name, err, out)
	}
	certText, err := os.ReadFile(cert)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", nd.name, err)
	}
	for line := range strings.Lines(string(certText)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "fingerprint" {
			v3ident = f[1]
		}
	}
	if v3ident == "" {
		return "", "", fmt.Errorf("%s: no fingerprint in %s", nd.name, cert)
	}
	cmd = exec.CommandContext(ctx, n.tor, "--ignore-missing-torrc", "-f", filepath.Join(nd.dir, "none"),
		"--orport", "1", "--datadirectory", nd.dir, "--list-fingerprint")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("%s: tor --list-fingerprint: %w: %s", nd.name, err, out)
	}
	fpText, err := os.ReadFile(filepath.Join(nd.dir, "fingerprint"))
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", nd.name, err)
	}
	f := strings.Fields(string(fpText))
	if len(f) != 2 {
		return "", "", fmt.Errorf("%s: fingerprint file %q", nd.name, fpText)
	}
	return f[1], v3ident, nil
}

// writeTorrc writes nd's torrc: the options every node shares, then extra.
func (n *Network) writeTorrc(nd *node, extra []string) error {
	if err := os.MkdirAll(nd.dir, 0o700); err != nil {
		return fmt.Errorf("%s: %w", nd.name, err)
	}
	conf := []string{
		"TestingTorNetwork 1",
		"PathsNeededToBuildCircuits 0.67",
		"TestingDirAuthVoteExit *",
		"TestingDirAuthVoteHSDir *",
		"TestingDirAuthVoteGuard *",
		"TestingMinExitFlagThreshold 0",
		"V3AuthNIntervalsValid 2",
		"DataDirectory " + nd.dir,
		"RunAsDaemon 0",
		"ConnLimit 60",
		"Nickname " + nd.name,
		"ShutdownWaitLength 2",
		"DisableDebuggerAttachment 0",
		fmt.Sprintf("ControlPort 127.0.0.1:%d", nd.ctlPort),
		"CookieAuthentication 1",
		"Log notice file " + filepath.Join(nd.dir, "notice.log"),
		"ProtocolWarnings 1",
		"SafeLogging 0",
		"LogTimeGranularity 1",
		// With the sandbox on, some tors of this build ignored SIGTERM.
		"Sandbox 0",
		// The tor exits by itself when the test process is gone.
		"__OwningControllerProcess " + strconv.Itoa(os.Getpid()),
		// In a six-relay network vanguards-lite builds paths relays refuse.
		"VanguardsLiteEnabled 0",
		"OutboundBindAddress 127.0.0.1",
	}
	conf = append(conf, n.authLns...)
	conf = append(conf, extra...)
	nd.torrc = filepath.Join(nd.dir, "torrc")
	if err := os.WriteFile(nd.torrc, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("%s: %w", nd.name, err)
	}
	return nil
}

func relayServerConf(nd *node) []string {
	return []string{
		"SocksPort 0",
		"Address 127.0.0.1",
		fmt.Sprintf("ORPort 127.0.0.1:%d", nd.orPort),
		"ExitRelay 0",
		"ExitPolicy reject *:*",
		// Without it relays stay at 95% bootstrapped and never join.
		"AssumeReachable 1",
		"ServerDNSDetectHijacking 0",
		"ServerDNSTestAddresses",
		"ServerDNSResolvConfFile /dev/null",
	}
}

func (n *Network) authorityConf(nd *node) []string {
	return append(relayServerConf(nd),
		"DirCache 1",
		fmt.Sprintf("DirPort 127.0.0.1:%d", nd.dirPort),
		"AuthoritativeDirectory 1",
		"V3AuthoritativeDirectory 1",
		"ContactInfo "+nd.name+"@tornet.test",
		// Tor's floor for a testing network: a vote every 10 s.
		"TestingV3AuthInitialVotingInterval 10",
		"TestingV3AuthInitialVoteDelay 2",
		"TestingV3AuthInitialDistDelay 2",
		"V3AuthVotingInterval 10",
		"V3AuthVoteDelay 2",
		"V3AuthDistDelay 2",
	)
}

func relayConf(nd *node) []string {
	// Non-authority caches lagged and answered 404 for microdescriptors.
	return append(relayServerConf(nd), "DirCache 0")
}

// waitConsensus polls the authorities until each serves a microdescriptor
// consensus that lists every relay, authorities included: a client that
// asks an authority still without one is answered 404 and backs off.
func (n *Network) waitConsensus(ctx context.Context) error {
	want := numAuthorities + numRelays
	for {
		got := want
		for _, a := range n.auths {
			if err := a.alive(); err != nil {
				return err
			}
			got = min(got, consensusRelays(ctx, a.dirPort))
		}
		if got >= want {
			return nil
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return fmt.Errorf("an authority's consensus lists %d of %d relays: %w", got, want, err)
		}
	}
}

// consensusRelays counts the routers of the microdescriptor consensus an
// authority serves; 0 while it has none.
func consensusRelays(ctx context.Context, dirPort int) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://127.0.0.1:%d/tor/status-vote/current/consensus-microdesc", dirPort), nil)
	if err != nil {
		return 0
	}
	// Asked for gzip, tor answers deflate, which net/http leaves encoded.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0
	}
	count := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "r ") {
			count++
		}
	}
	return count
}

// logTails returns the end of every tor's log, for an error message.
func (n *Network) logTails() string {
	var b strings.Builder
	for _, nd := range n.nodes() {
		if nd.dir == "" {
			continue
		}
		fmt.Fprintf(&b, "\n--- %s (%s) ---\n%s", nd.name, filepath.Join(nd.dir, "notice.log"), tail(filepath.Join(nd.dir, "notice.log"), logTailLines))
		if out := tail(filepath.Join(nd.dir, "stdout.log"), logTailLines); strings.TrimSpace(out) != "" {
			fmt.Fprintf(&b, "--- %s stdout ---\n%s", nd.name, out)
		}
	}
	return b.String()
}

// LogTails returns the last lines of every tor's notice log, for a test
// that failed because of the network.
func (n *Network) LogTails() string { return n.logTails() }

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")\n"
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n") + "\n"
}

func (n *Network) nodes() []*node {
	var out []*node
	out = append(out, n.auths...)
	out = append(out, n.relays...)
	if n.client != nil {
		out = append(out, n.client.node)
	}
	n.mu.Lock()
	for _, o := range n.onions {
		out = append(out, o.node)
	}
	n.mu.Unlock()
	return out
}

// Dir is the directory holding every tor's data directory and log.
func (n *Network) Dir() string { return n.dir }

// Client is the network's Tor client.
func (n *Network) Client() *Client { return n.client }

// Close stops every tor (SIGTERM, then SIGKILL after a few seconds) and
// removes the temporary directory Start made. It is safe to call twice.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	var wg sync.WaitGroup
	nodes := n.nodes()
	errs := make([]error, len(nodes))
	for i, nd := range nodes {
		wg.Go(func() { errs[i] = nd.stop() })
	}
	wg.Wait()
	if n.ownDir {
		if err := os.RemoveAll(n.dir); err != nil {
			errs = append(errs, fmt.Errorf("tornet: remove %s: %w", n.dir, err))
		}
	}
	return errors.Join(errs...)
}

// node is one tor process.
type node struct {
	name                     string
	dir, torrc               string
	orPort, dirPort, ctlPort int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the exit status once exited is closed
}

// start launches the tor in the foreground, as a child of this process.
func (nd *node) start(torBin string) error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd != nil {
		return fmt.Errorf("%s: already running", nd.name)
	}
	out, err := os.OpenFile(filepath.Join(nd.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", nd.name, err)
	}
	cmd := exec.Command(torBin, "-f", nd.torrc, "--hush")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("%s: exec %s: %w", nd.name, torBin, err)
	}
	exited := make(chan struct{})
	nd.cmd, nd.exited = cmd, exited
	go func() {
		err := cmd.Wait()
		out.Close()
		nd.mu.Lock()
		nd.err = err
		nd.mu.Unlock()
		close(exited)
	}()
	return nil
}

// alive returns an error when the tor has exited.
func (nd *node) alive() error {
	nd.mu.Lock()
	exited := nd.exited
	nd.mu.Unlock()
	if exited == nil {
		return fmt.Errorf("%s: not running", nd.name)
	}
	select {
	case <-exited:
		nd.mu.Lock()
		defer nd.mu.Unlock()
		return fmt.Errorf("%s: tor exited: %v", nd.name, nd.err)
	default:
		return nil
	}
}

// stop ends the tor: SIGTERM, which a client or relay obeys at once, then
// SIGKILL if it is still there after stopWait (an authority flushing its
// state on a 2-core machine loaded by other test packages took more than
// five seconds once, and more than twenty once in CI). Either way the tor is
// gone when stop returns, which is all its callers need: a tor killed is
// reported on stderr with its log's last lines, not as an error that would
// fail tests that passed.
func (nd *node) stop() error {
	nd.mu.Lock()
	cmd, exited := nd.cmd, nd.exited
	nd.cmd = nil
	nd.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(stopWait):
	}
	_ = cmd.Process.Kill()
	<-exited
	fmt.Fprintf(os.Stderr, "tornet: %s ignored SIGTERM for %v and was killed; its log ends:\n%s",
		nd.name, stopWait, tail(filepath.Join(nd.dir, "notice.log"), 5))
	return nil
}

// stopWait is how long stop waits for a tor to obey SIGTERM.
const stopWait = 20 * time.Second

// waitBootstrapped polls the tor's control port until it reports 100%.
func (nd *node) waitBootstrapped(ctx context.Context) error {
	last := ""
	for {
		if err := nd.alive(); err != nil {
			return err
		}
		if c, err := nd.control(ctx); err == nil {
			phase, err := c.GetInfo(ctx, "status/bootstrap-phase")
			c.Close()
			if err == nil {
				last = phase
				if strings.Contains(phase, "PROGRESS=100") {
					return nil
				}
			}
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return fmt.Errorf("%s: not bootstrapped (last phase %q): %w", nd.name, last, err)
		}
	}
}

// control opens an authenticated control connection to the tor.
func (nd *node) control(ctx context.Context) (*Control, error) {
	return DialControl(ctx, fmt.Sprintf("127.0.0.1:%d", nd.ctlPort), filepath.Join(nd.dir, "control_auth_cookie"))
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
