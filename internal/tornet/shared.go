package tornet

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared is the one network of a test binary, started by the first test
// that asks for it (start-up costs 20–30 s) and stopped by Main.
var shared struct {
	mu      sync.Mutex
	inMain  bool
	started bool
	n       *Network
	err     error
}

// Main runs a package's tests and then stops the shared network, if a
// test started one. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(tornet.Main(m)) }
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.n != nil {
		if err := shared.n.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
		shared.n = nil
	}
	return code
}

// Shared returns the test binary's network, starting it on first use; a
// failed start fails this test and every later one that asks, with the
// tor logs in the message. The package's TestMain must call Main, which
// stops the network after the last test.
func Shared(t testing.TB) *Network {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		t.Fatal("tornet: Shared needs the package's TestMain to run tornet.Main(m), which stops the network")
	}
	if !shared.started {
		shared.started = true
		// Not t.Logf: the network outlives the test that started it.
		logf := func(format string, args ...any) {
			if testing.Verbose() {
				fmt.Fprintf(os.Stderr, format+"\n", args...)
			}
		}
		shared.n, shared.err = Start(context.Background(), Options{Logf: logf})
	}
	if shared.err != nil {
		t.Fatalf("%v", shared.err)
	}
	return shared.n
}
