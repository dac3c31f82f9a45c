// SPDX-License-Identifier: BSD-2-Clause

package genid

// The language-neutral conformance cases of tests/clients/cases.json,
// run against the real genid (tests/clients/run_genid.py, with $GENID)
// and the scripted fake server (tests/clients/fake_server.py).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// casesDir is tests/clients of the source tree ($GENID_CLIENT_TESTS
// overrides).
func casesDir(t *testing.T) string {
	if d := os.Getenv("GENID_CLIENT_TESTS"); d != "" {
		return d
	}
	d, err := filepath.Abs(filepath.Join("..", "..", "..", "tests", "clients"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type casesFile struct {
	Format        int              `json:"format"`
	About         string           `json:"about"`
	Defaults      map[string]int64 `json:"defaults"`
	GenidIdentity map[string]int   `json:"genid_identity"`
	FakeTS        int64            `json:"fake_ts"`
	Cases         []struct {
		Name    string       `json:"name"`
		About   string       `json:"about"`
		Servers []caseServer `json:"servers"`
		Client  caseClient   `json:"client"`
		Steps   []caseStep   `json:"steps"`
		Expect  caseExpect   `json:"expect"`
	} `json:"cases"`
	Decode []struct {
		About    string         `json:"about"`
		ID       string         `json:"id"`
		Hex      string         `json:"hex"`
		Fields   map[string]int `json:"fields"`
		Epoch    int64          `json:"epoch"`
		Unix     int64          `json:"unix"`
		Signed64 bool           `json:"signed64"`
	} `json:"decode"`
	EncodeErrors []struct {
		Fields  map[string]int64 `json:"fields"`
		Field   string           `json:"field"`
		Message string           `json:"message"`
	} `json:"encode_errors"`
	Parse struct {
		OK  [][2]string `json:"ok"`
		Bad []string    `json:"bad"`
	} `json:"parse"`
	Addresses struct {
		OK  [][3]any `json:"ok"`
		Bad []string `json:"bad"`
	} `json:"addresses"`
}

type caseClient struct {
	ConnectTimeoutMs int   `json:"connect_timeout_ms"`
	IOTimeoutMs      int   `json:"io_timeout_ms"`
	Prefetch         int   `json:"prefetch"`
	PrefetchMaxAgeMs int   `json:"prefetch_max_age_ms"`
	Epoch            int64 `json:"epoch"`
}

type caseServer struct {
	Genid   []string `json:"genid"`
	Fake    []string `json:"fake"`
	Machine int      `json:"machine"`
	Epoch   int64    `json:"epoch"`
	First   string   `json:"first"`
}

type caseStep struct {
	Do         string         `json:"do"`
	N          int            `json:"n"`
	Times      int            `json:"times"`
	Server     int            `json:"server"`
	Ms         int            `json:"ms"`
	Fails      string         `json:"fails"`
	IDs        *int           `json:"ids"`
	ErrorNames []int          `json:"error_names"`
	WithinMs   int            `json:"within_ms"`
	AtLeastMs  int            `json:"at_least_ms"`
	Info       map[string]any `json:"info"`
}

type caseExpect struct {
	Count      int            `json:"count"`
	Unique     bool           `json:"unique"`
	Increasing bool           `json:"increasing"`
	Fields     map[string]int `json:"fields"`
	NearNowS   int64          `json:"near_now_s"`
	Machines   [][2]int       `json:"machines"`
	Equals     []struct {
		Server int    `json:"server"`
		K      [2]int `json:"k"`
	} `json:"equals"`
}

func loadCases(t *testing.T) *casesFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(casesDir(t), "cases.json"))
	if err != nil {
		t.Fatalf("the conformance cases: %v (set GENID_CLIENT_TESTS to tests/clients of the source tree)", err)
	}
	// A key this runner does not know fails, so that a case added later
	// is never passed by accident.
	var cf casesFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cf); err != nil {
		t.Fatalf("cases.json: %v: update the runner", err)
	}
	if cf.Format != 1 {
		t.Fatalf("cases.json has format %d; this runner knows format 1", cf.Format)
	}
	return &cf
}

// helper is a server process of a case: run_genid.py or fake_server.py.
type helper struct {
	t     *testing.T
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	lines chan string
	port  int
	fake  bool
	dead  bool
}

func startHelper(t *testing.T, s caseServer) *helper {
	t.Helper()
	script, args := "fake_server.py", s.Fake
	if s.Genid != nil {
		script, args = "run_genid.py", s.Genid
	}
	h := &helper{t: t, fake: s.Genid == nil, lines: make(chan string, 16)}
	h.cmd = exec.Command("python3", append([]string{filepath.Join(casesDir(t), script)}, args...)...)
	h.cmd.Stderr = os.Stderr
	var err error
	if h.in, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	outp, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	t.Cleanup(h.stop)
	go func() {
		sc := bufio.NewScanner(outp)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	line := h.line(30 * time.Second)
	if h.fake {
		// The fake prints its port only.
	} else if strings.HasPrefix(line, "error:") {
		// No genid binary gives exit 77: skip as the other suites do.
		h.in.Close()
		if err := h.cmd.Wait(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == 77 {
				t.Skipf("run_genid.py: %s", line)
			}
		}
		t.Fatalf("run_genid.py: %s", line)
	}
	h.port, err = strconv.Atoi(line)
	if err != nil {
		t.Fatalf("%s printed %q, not a port", script, line)
	}
	return h
}

// line is the next line the helper prints, waiting at most d.
func (h *helper) line(d time.Duration) string {
	h.t.Helper()
	select {
	case l, ok := <-h.lines:
		if !ok {
			h.t.Fatalf("%s ended", h.cmd.Args[1])
		}
		return l
	case <-time.After(d):
		h.t.Fatalf("%s said nothing within %v", h.cmd.Args[1], d)
	}
	return ""
}

// command sends a command to run_genid.py, or kills a fake.
func (h *helper) command(cmd string) {
	h.t.Helper()
	if h.fake {
		if cmd != "kill" {
			h.t.Fatalf("a fake server can only be killed, not %q", cmd)
		}
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
		h.dead = true
		return
	}
	if _, err := fmt.Fprintln(h.in, cmd); err != nil {
		h.t.Fatalf("run_genid.py %s: %v", cmd, err)
	}
	if l := h.line(30 * time.Second); strings.HasPrefix(l, "error:") {
		h.t.Fatalf("run_genid.py %s: %s", cmd, l)
	}
	if cmd == "stop" {
		h.port = 0
	}
}

// stop ends the helper: run_genid.py stops genid at the end of its stdin.
func (h *helper) stop() {
	if h.dead {
		return
	}
	h.dead = true
	if h.fake {
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
		return
	}
	h.in.Close()
	done := make(chan struct{})
	go func() { _ = h.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
		<-done
		h.t.Errorf("run_genid.py did not end within 20 s of the end of its input")
	}
}

func (h *helper) addr() string { return "127.0.0.1:" + strconv.Itoa(h.port) }

func optionsOf(c caseClient) *Options {
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	return &Options{
		ConnectTimeout: ms(c.ConnectTimeoutMs),
		IOTimeout:      ms(c.IOTimeoutMs),
		Prefetch:       c.Prefetch,
		PrefetchMaxAge: ms(c.PrefetchMaxAgeMs),
		Epoch:          c.Epoch,
		// One connection: a case's calls are one sequence.
		Conns: 1,
	}
}

// failsAs reports whether err is of the case's kind of failure.
func failsAs(err error, kind string) bool {
	switch kind {
	case "refused":
		return errors.Is(err, syscall.ECONNREFUSED)
	case "timeout":
		return errors.Is(err, os.ErrDeadlineExceeded)
	case "closed":
		return errors.Is(err, ErrServerClosed)
	case "protocol":
		return errors.Is(err, ErrProtocol)
	case "unavailable":
		return errors.Is(err, ErrNotServing)
	case "resolve":
		var dnsErr *net.DNSError
		return errors.As(err, &dnsErr)
	}
	return false
}

func TestConformance(t *testing.T) {
	cf := loadCases(t)
	for _, tc := range cf.Cases {
		tc := tc
		t.Run(tc.Name, func(t *testing.T) {
			var hs []*helper
			var addrs []string
			for _, s := range tc.Servers {
				h := startHelper(t, s)
				hs = append(hs, h)
				addrs = append(addrs, h.addr())
			}
			opt := optionsOf(tc.Client)
			c, err := New(addrs, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var ids []uint64
			for i, st := range tc.Steps {
				where := fmt.Sprintf("step %d (%s)", i+1, st.Do)
				switch st.Do {
				case "kill", "start", "restart", "stop":
					hs[st.Server].command(st.Do)
					continue
				case "sleep":
					time.Sleep(time.Duration(st.Ms) * time.Millisecond)
					continue
				}
				times := st.Times
				if times == 0 {
					times = 1
				}
				t0 := time.Now()
				var err error
				for k := 0; k < times && err == nil; k++ {
					ctx := context.Background()
					switch st.Do {
					case "next":
						var id uint64
						if id, err = c.Next(ctx); err == nil {
							ids = append(ids, id)
						}
					case "bulk":
						var got []uint64
						got, err = c.Bulk(ctx, st.N)
						if err == nil && len(got) != st.N {
							t.Fatalf("%s: bulk(%d) gave %d IDs and no error", where, st.N, len(got))
						}
						if err != nil && st.IDs != nil && len(got) != *st.IDs {
							t.Errorf("%s: bulk(%d) failed after %d IDs, want %d: %v", where, st.N, len(got), *st.IDs, err)
						}
						ids = append(ids, got...)
					case "info":
						var in Info
						if in, err = c.Info(ctx); err == nil {
							checkInfo(t, where, in, st.Info)
						}
					default:
						t.Fatalf("%s: unknown step", where)
					}
				}
				took := time.Since(t0)
				if st.Fails != "" {
					if err == nil {
						t.Fatalf("%s: succeeded, want a failure (%s)", where, st.Fails)
					}
					if st.Fails != "any" && !failsAs(err, st.Fails) {
						t.Errorf("%s: failed with %q, not of the kind %q", where, err, st.Fails)
					}
					for _, s := range st.ErrorNames {
						if !strings.Contains(err.Error(), hs[s].addr()) {
							t.Errorf("%s: the error does not name server %d (%s): %q", where, s, hs[s].addr(), err)
						}
					}
				} else if err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				if st.WithinMs > 0 && took > time.Duration(st.WithinMs)*time.Millisecond {
					t.Errorf("%s: took %v, more than %d ms", where, took, st.WithinMs)
				}
				if st.AtLeastMs > 0 && took < time.Duration(st.AtLeastMs)*time.Millisecond {
					t.Errorf("%s: took %v, less than %d ms", where, took, st.AtLeastMs)
				}
			}
			checkExpect(t, tc.Expect, tc.Servers, opt.Epoch, ids)
		})
	}
}

func checkInfo(t *testing.T, where string, in Info, want map[string]any) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(in.Raw, &got); err != nil {
		t.Errorf("%s: INFO: %v", where, err)
		return
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s: INFO %s = %v, want %v (INFO %s)", where, k, got[k], v, in.Raw)
		}
	}
}

func checkExpect(t *testing.T, e caseExpect, servers []caseServer, epoch int64, ids []uint64) {
	t.Helper()
	if len(ids) != e.Count {
		t.Errorf("%d IDs handed out, want %d", len(ids), e.Count)
	}
	if e.Unique {
		seen := make(map[uint64]bool, len(ids))
		for _, id := range ids {
			if seen[id] {
				t.Errorf("ID %d handed out twice", id)
			}
			seen[id] = true
		}
	}
	if e.Increasing {
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Errorf("ID %d (#%d) is not above the one before it, %d", ids[i], i, ids[i-1])
				break
			}
		}
	}
	now := time.Now().Unix()
	for _, id := range ids {
		f := Decode(id)
		got := map[string]int{"ts": int(f.Timestamp), "zone": f.Zone, "dc": f.DC,
			"machine": f.Machine, "bucket": f.Bucket, "counter": f.Counter}
		for k, v := range e.Fields {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("ID %d: %s %d, want %d", id, k, got[k], v)
			}
		}
		if e.NearNowS > 0 {
			if d := f.Unix(epoch) - now; d > e.NearNowS || -d > e.NearNowS {
				t.Errorf("ID %d is of %s, %d s away from now", id, f.Time(epoch), d)
			}
		}
	}
	if e.Machines != nil {
		var runs [][2]int
		for _, id := range ids {
			m := Decode(id).Machine
			if len(runs) > 0 && runs[len(runs)-1][0] == m {
				runs[len(runs)-1][1]++
			} else {
				runs = append(runs, [2]int{m, 1})
			}
		}
		if !reflect.DeepEqual(runs, e.Machines) {
			t.Errorf("IDs came from machines %v (machine, count), want %v", runs, e.Machines)
		}
	}
	if e.Equals != nil {
		var want []uint64
		for _, q := range e.Equals {
			first, err := strconv.ParseUint(servers[q.Server].First, 10, 64)
			if err != nil {
				t.Fatalf("server %d: first %q: %v", q.Server, servers[q.Server].First, err)
			}
			for k := q.K[0]; k < q.K[1]; k++ {
				want = append(want, first+uint64(k))
			}
		}
		if !reflect.DeepEqual(ids, want) && !(len(ids) == 0 && len(want) == 0) {
			t.Errorf("IDs %s, want %s", idRuns(ids, servers), idRuns(want, servers))
		}
	}
}

// idRuns words a list of fake IDs as runs of (server, k) for messages.
func idRuns(ids []uint64, servers []caseServer) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[j-1]+1 {
			j++
		}
		name := strconv.FormatUint(ids[i], 10)
		for s, sv := range servers {
			if f, err := strconv.ParseUint(sv.First, 10, 64); err == nil && ids[i] >= f && ids[i]-f < 1<<20 {
				name = fmt.Sprintf("server %d k %d", s, ids[i]-f)
			}
		}
		parts = append(parts, fmt.Sprintf("[%s, %d IDs]", name, j-i))
		i = j
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestConformanceDecode(t *testing.T) {
	cf := loadCases(t)
	if len(cf.Decode) == 0 {
		t.Fatal("no decode cases")
	}
	for _, d := range cf.Decode {
		id, err := strconv.ParseUint(d.ID, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		hid, err := ParseID(d.Hex)
		if err != nil || hid != id {
			t.Errorf("ParseID(%q) = %d, %v; want %d", d.Hex, hid, err, id)
		}
		f := Decode(id)
		got := map[string]int{"ts": int(f.Timestamp), "zone": f.Zone, "dc": f.DC,
			"machine": f.Machine, "bucket": f.Bucket, "counter": f.Counter}
		if !reflect.DeepEqual(got, d.Fields) {
			t.Errorf("Decode(%s) = %v, want %v", d.ID, got, d.Fields)
		}
		if u := f.Unix(d.Epoch); u != d.Unix {
			t.Errorf("Decode(%s).Unix(%d) = %d, want %d", d.ID, d.Epoch, u, d.Unix)
		}
		if tm := f.Time(d.Epoch); tm.Unix() != d.Unix || tm.Location() != time.UTC {
			t.Errorf("Decode(%s).Time(%d) = %v, want Unix %d in UTC", d.ID, d.Epoch, tm, d.Unix)
		}
		if signed := id <= math.MaxInt64; signed != d.Signed64 {
			t.Errorf("ID %s fits a signed 64-bit integer: %v, want %v", d.ID, signed, d.Signed64)
		}
		back, err := Encode(f)
		if err != nil || back != id {
			t.Errorf("Encode(Decode(%s)) = %d, %v", d.ID, back, err)
		}
	}
}

func TestConformanceEncodeErrors(t *testing.T) {
	cf := loadCases(t)
	if len(cf.EncodeErrors) == 0 {
		t.Fatal("no encode error cases")
	}
	for _, e := range cf.EncodeErrors {
		f := Fields{Timestamp: e.Fields["ts"], Zone: int(e.Fields["zone"]), DC: int(e.Fields["dc"]),
			Machine: int(e.Fields["machine"]), Bucket: int(e.Fields["bucket"]), Counter: int(e.Fields["counter"])}
		id, err := Encode(f)
		if err == nil {
			t.Errorf("Encode(%+v) = %d, want the error %q", f, id, e.Message)
		} else if !strings.Contains(err.Error(), e.Message) {
			t.Errorf("Encode(%+v): %q, want %q", f, err, e.Message)
		}
	}
}

func TestConformanceParse(t *testing.T) {
	cf := loadCases(t)
	for _, p := range cf.Parse.OK {
		want, _ := strconv.ParseUint(p[1], 10, 64)
		got, err := ParseID(p[0])
		if err != nil || got != want {
			t.Errorf("ParseID(%q) = %d, %v; want %d", p[0], got, err, want)
		}
	}
	for _, s := range cf.Parse.Bad {
		if got, err := ParseID(s); err == nil {
			t.Errorf("ParseID(%q) = %d, want an error", s, got)
		}
	}
}

func TestConformanceAddresses(t *testing.T) {
	cf := loadCases(t)
	for _, a := range cf.Addresses.OK {
		in, host, port := a[0].(string), a[1].(string), int(a[2].(float64))
		got, err := parseAddr(in)
		want := fmt.Sprintf("%s:%d", host, port)
		if strings.Contains(host, ":") {
			want = fmt.Sprintf("[%s]:%d", host, port)
		}
		if err != nil || got != want {
			t.Errorf("address %q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, s := range cf.Addresses.Bad {
		if got, err := parseAddr(s); err == nil {
			t.Errorf("address %q: %q, want an error", s, got)
		}
		if _, err := New([]string{s}, nil); err == nil {
			t.Errorf("New with the address %q: no error", s)
		}
	}
}

// TestConformanceDefaults: the client's defaults are the contract's.
func TestConformanceDefaults(t *testing.T) {
	cf := loadCases(t)
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	got := map[string]int64{
		"port":                DefaultPort,
		"connect_timeout_ms":  ms(DefaultConnectTimeout),
		"io_timeout_ms":       ms(DefaultIOTimeout),
		"prefetch":            0,
		"prefetch_max_age_ms": ms(DefaultPrefetchMaxAge),
		"prefetch_max":        PrefetchMax,
		"epoch":               0,
	}
	if !reflect.DeepEqual(got, cf.Defaults) {
		t.Errorf("defaults %v, the contract's %v", got, cf.Defaults)
	}
	// What New makes of an empty Options.
	c, err := New([]string{"127.0.0.1"}, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := c.opt
	if ms(o.ConnectTimeout) != cf.Defaults["connect_timeout_ms"] || ms(o.IOTimeout) != cf.Defaults["io_timeout_ms"] ||
		ms(o.PrefetchMaxAge) != cf.Defaults["prefetch_max_age_ms"] || int64(o.Prefetch) != cf.Defaults["prefetch"] ||
		o.Epoch != cf.Defaults["epoch"] || c.addrs[0] != "127.0.0.1:"+strconv.FormatInt(cf.Defaults["port"], 10) {
		t.Errorf("New with empty options: %+v, %v", o, c.addrs)
	}
}
