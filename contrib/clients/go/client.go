// SPDX-License-Identifier: BSD-2-Clause

// Package genid is a client of the genid 64-bit unique ID service.
//
// A Client keeps a small pool of connections to one of a list of genid
// servers and is safe for concurrent use by many goroutines: each call
// takes one connection of the pool for its whole length, so the IDs of one
// call come from one connection, and one connection's IDs strictly
// increase (the server pins it to one bucket).  IDs of different calls may
// come from different connections of the pool, or after a failover from
// another server: unique, but ordered against each other only by the time
// in them.  A goroutine that makes its calls one after another reuses the
// same connection (the pool hands out the one given back last).
//
// When a server cannot be reached, does not answer within the timeout or
// closes the connection, the call moves to the next address of the list
// and asks there for what it still lacks.  IDs read before a connection
// broke are kept and handed out once; replies not read are dropped: the
// server never issues those IDs again, so they leave gaps, never
// duplicates.
//
// The protocol (genid(8)): requests are 2-byte frames [CMD, COUNT]; CMD 0
// gives one ID (8 bytes, big-endian), CMD 1 with COUNT n gives a byte
// m <= n then m IDs, CMD 2 gives a 2-byte length then JSON about the node.
package genid

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults of the Options fields left zero.
const (
	DefaultConnectTimeout = time.Second
	DefaultIOTimeout      = time.Second
	DefaultPrefetchMaxAge = time.Second
	DefaultConns          = 4
	// PrefetchMax is the largest Prefetch: one bucket's second.
	PrefetchMax = 65536
)

const (
	chunk  = 255 // IDs asked for in one CMD 1 frame
	window = 32  // CMD 1 frames written before reading their replies
	// A CMD 0 waits in the server for the next second when its bucket is
	// used up: its reply may take this much longer than IOTimeout.
	clockWait = time.Second
	rbufLen   = 16384
)

// Options are the settings of New; a field left zero takes its default.
type Options struct {
	// ConnectTimeout bounds the setting up of one connection to one
	// address (1s).
	ConnectTimeout time.Duration
	// IOTimeout is the longest wait for a server to take a request or to
	// send the next part of a reply (1s).  A request for a single ID may
	// wait in the server for up to a second when its bucket is used up,
	// so its reply gets one second more.
	IOTimeout time.Duration
	// Prefetch, when above 0, makes Next fetch up to that many IDs at
	// once on a connection and hand them out one by one from memory.
	// At most PrefetchMax.
	Prefetch int
	// PrefetchMaxAge: prefetched IDs fetched longer ago than this are
	// dropped unused, so that the time in an ID stays close to the time
	// it is handed out (1s).
	PrefetchMaxAge time.Duration
	// Epoch is the servers' epoch in Unix seconds (0), used by Time.
	Epoch int64
	// Conns is the most connections the client opens at once (4): calls
	// beyond it wait for a connection to be free.  Connections are
	// opened when first needed.
	Conns int
}

// ErrClosed is the error of a call on a closed Client.
var ErrClosed = errors.New("genid: client is closed")

// ErrNoServer matches, with errors.Is, the error of a call that no server
// answered.
var ErrNoServer = errors.New("genid: no server answered")

// ErrProtocol matches, with errors.Is, a server that broke the protocol:
// more IDs than asked for, or an ID not above the one before it on the
// same connection.  The client treats that server as failed.
var ErrProtocol = errors.New("genid: protocol violation")

// ErrServerClosed matches, with errors.Is, a connection the server closed
// or reset (genid does that to a client its allow list or its connection
// limit keeps out, and on restart or idle timeout).
var ErrServerClosed = errors.New("genid: the server closed the connection")

// ErrNotServing matches, with errors.Is, a server whose INFO says it
// cannot issue IDs now (its "state" is not "serving": clock-behind,
// checkpoint-stuck, stopping, peer-conflict).  The client asks INFO once
// per new connection, before its first request for IDs, and treats such
// a server as down.
var ErrNotServing = errors.New("genid: the server is not serving")

// NoServerError is the error of a call after every address failed: each
// failure in turn, oldest first.  It matches ErrNoServer with errors.Is,
// and unwraps to the last failure (errors.Is(err, syscall.ECONNREFUSED)
// tells that nothing listened at the last address tried).
type NoServerError struct {
	Failures []error
}

func (e *NoServerError) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = f.Error()
	}
	return "genid: no server answered: " + strings.Join(parts, "; ")
}

// Is reports that e is ErrNoServer.
func (e *NoServerError) Is(target error) bool { return target == ErrNoServer }

// Unwrap gives the last failure.
func (e *NoServerError) Unwrap() error {
	if len(e.Failures) == 0 {
		return nil
	}
	return e.Failures[len(e.Failures)-1]
}

// Info is what a server says about itself (protocol command 2).  Raw is
// the whole JSON object, fields this version does not know included.
type Info struct {
	Version    string          `json:"version"`
	Zone       int             `json:"zone"`
	DC         int             `json:"dc"`
	Machine    int             `json:"machine"`
	Epoch      int64           `json:"epoch"`
	Buckets    int             `json:"buckets"`
	Workers    int             `json:"workers"`
	PID        int             `json:"pid"`
	UptimeS    int64           `json:"uptime_s"`
	Now        int64           `json:"now"`
	Checkpoint int64           `json:"checkpoint"`
	Bucket     int             `json:"bucket"`
	State      string          `json:"state"`  // "serving", or why not
	LeadS      float64         `json:"lead_s"` // seconds the node's buckets are ahead of its clock
	Raw        json.RawMessage `json:"-"`
}

// Client fetches IDs from a list of genid servers.  It is safe for
// concurrent use.
type Client struct {
	addrs []string // host:port, for net.Dial and for messages
	opt   Options
	// Guarded by mu: the idle connections, the one given back last on
	// top; how many are in use; the calls waiting for one, first come
	// first served; whether Close was called.
	mu      sync.Mutex
	free    []*conn
	inUse   int
	waiters []chan *conn
	closed  bool
}

// New makes a client for the addresses ("host", "host:port",
// "[v6]:port" or a bare IPv6 address; the port is DefaultPort when none
// is given).  Host names are resolved at each connection.  opt may be
// nil.  No connection is made before the first call.
func New(addrs []string, opt *Options) (*Client, error) {
	var o Options
	if opt != nil {
		o = *opt
	}
	if len(addrs) == 0 {
		return nil, errors.New("genid: no server address given")
	}
	switch {
	case o.ConnectTimeout < 0, o.IOTimeout < 0, o.PrefetchMaxAge < 0:
		return nil, errors.New("genid: a timeout is negative")
	case o.Prefetch < 0 || o.Prefetch > PrefetchMax:
		return nil, fmt.Errorf("genid: prefetch %d is out of range 0..%d", o.Prefetch, PrefetchMax)
	case o.Conns < 0:
		return nil, fmt.Errorf("genid: %d connections: give at least 1, or 0 for the default", o.Conns)
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.IOTimeout == 0 {
		o.IOTimeout = DefaultIOTimeout
	}
	if o.PrefetchMaxAge == 0 {
		o.PrefetchMaxAge = DefaultPrefetchMaxAge
	}
	if o.Conns == 0 {
		o.Conns = DefaultConns
	}
	c := &Client{opt: o}
	for _, a := range addrs {
		hp, err := parseAddr(a)
		if err != nil {
			return nil, err
		}
		c.addrs = append(c.addrs, hp)
	}
	return c, nil
}

// Next returns one ID.  Without prefetch it asks for one (command 0);
// with prefetch it hands one out from the connection's buffer, refilling
// it when empty.
func (c *Client) Next(ctx context.Context) (uint64, error) {
	s, err := c.get(ctx)
	if err != nil {
		return 0, err
	}
	defer c.put(s)
	if c.opt.Prefetch == 0 {
		var id [1]uint64
		_, err := s.fetch(ctx, id[:], 1, true)
		return id[0], err
	}
	if s.prepos < len(s.pre) && time.Since(s.preAt) > c.opt.PrefetchMaxAge {
		s.pre = s.pre[:0]
		s.prepos = 0
	}
	if s.prepos == len(s.pre) {
		s.pre = s.pre[:cap(s.pre)]
		s.prepos = 0
		got, err := s.fetch(ctx, s.pre, 1, false)
		s.pre = s.pre[:got]
		if got == 0 {
			return 0, err
		}
		s.preAt = time.Now()
	}
	id := s.pre[s.prepos]
	s.prepos++
	return id, nil
}

// Bulk returns n IDs, increasing when they all come from one connection.
// It asks for 255 IDs a request (command 1), 32 requests at once; a short
// reply means the connection's bucket is used up for this second and the
// next requests ask for the rest.  When every server failed after some IDs
// came, it returns those (all valid) and the error; when none came, nil
// and the error.
func (c *Client) Bulk(ctx context.Context, n int) ([]uint64, error) {
	if n < 0 {
		return nil, fmt.Errorf("genid: Bulk of %d IDs", n)
	}
	s, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	defer c.put(s)
	ids := make([]uint64, n)
	got := 0
	// Prefetched IDs come first: they are older than any the connection
	// gives now, and the caller sees one increasing run.
	if s.prepos < len(s.pre) {
		if time.Since(s.preAt) <= c.opt.PrefetchMaxAge {
			got = copy(ids, s.pre[s.prepos:])
			s.prepos += got
		} else {
			s.pre = s.pre[:0]
			s.prepos = 0
		}
	}
	if got < n {
		var k int
		k, err = s.fetch(ctx, ids[got:], n-got, false)
		got += k
	}
	if got == 0 && n > 0 {
		return nil, err
	}
	return ids[:got], err
}

// Info asks a server about itself (command 2).
func (c *Client) Info(ctx context.Context) (Info, error) {
	var in Info
	s, err := c.get(ctx)
	if err != nil {
		return in, err
	}
	defer c.put(s)
	var raw []byte
	err = s.call(ctx, func() error {
		var e error
		raw, e = s.info(ctx)
		return e
	})
	if err != nil {
		return in, err
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return in, fmt.Errorf("genid: INFO reply is not the JSON object expected: %w", err)
	}
	in.Raw = raw
	return in, nil
}

// Time is the time of an ID under the client's epoch, in UTC.
func (c *Client) Time(id uint64) time.Time {
	return Decode(id).Time(c.opt.Epoch)
}

// Close closes the idle connections at once and the others when their
// calls end; prefetched IDs not handed out are lost.  Calls after Close,
// and calls waiting for a connection, fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, s := range c.free {
		s.close()
	}
	c.free = nil
	for _, w := range c.waiters {
		w <- nil
	}
	c.waiters = nil
	return nil
}

// get takes a connection of the pool: an idle one, a new one while fewer
// than Conns are in use, or else the next one given back.
func (c *Client) get(ctx context.Context) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(c.free); n > 0 {
		s := c.free[n-1]
		c.free = c.free[:n-1]
		c.inUse++
		c.mu.Unlock()
		return s, nil
	}
	if c.inUse < c.opt.Conns {
		c.inUse++
		c.mu.Unlock()
		return &conn{c: c, rbuf: make([]byte, rbufLen),
			pre: make([]uint64, 0, c.opt.Prefetch)}, nil
	}
	w := make(chan *conn, 1)
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	select {
	case s := <-w:
		if s == nil {
			return nil, ErrClosed
		}
		return s, nil
	case <-ctx.Done():
	}
	c.mu.Lock()
	for i, x := range c.waiters {
		if x == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			c.mu.Unlock()
			return nil, ctx.Err()
		}
	}
	c.mu.Unlock()
	// A connection was handed over meanwhile: pass it on.
	if s := <-w; s != nil {
		c.put(s)
	}
	return nil, ctx.Err()
}

// put gives a connection back to the pool, or straight to the first call
// waiting for one.
func (c *Client) put(s *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		s.close()
		c.inUse--
	case len(c.waiters) > 0:
		w := c.waiters[0]
		c.waiters = c.waiters[1:]
		w <- s
	default:
		c.free = append(c.free, s)
		c.inUse--
	}
}

// conn is one connection of the pool and what was read on it; one call
// at a time uses it.
type conn struct {
	c        *Client
	mu       sync.Mutex // guards nc against the cancel watcher
	nc       net.Conn
	cur      int    // the address connected to or tried next
	last     uint64 // the last ID read on this connection
	nread    uint64 // IDs read on this connection
	answered bool   // the server has sent something on it
	vetted   bool   // its INFO said "serving" (or named no state)
	rbuf     []byte
	rpos     int
	rlen     int
	pre      []uint64 // prefetched IDs: pre[prepos:]
	prepos   int
	preAt    time.Time // when pre was filled
}

// call runs req on the open connection or a new one, moving round the
// addresses from the one that failed.  Each address is tried once; a
// connection open from an earlier call may have been closed by the server
// meanwhile (idle timeout, restart), so its address may come round once
// more.  A cancelled context ends the call at once, without failover.
// After a call that every address failed, the next one starts again from
// the address this one started with.
func (s *conn) call(ctx context.Context, req func() error) error {
	if done := ctx.Done(); done != nil {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-done:
				s.mu.Lock()
				if s.nc != nil {
					// Wakes a read or write in progress.
					_ = s.nc.SetDeadline(time.Unix(1, 0))
				}
				s.mu.Unlock()
			case <-stop:
			}
		}()
	}
	n := len(s.c.addrs)
	start := s.cur
	budget := n
	if s.nc != nil {
		budget++
	}
	var fails []error
	for tries := 0; tries < budget; tries++ {
		err := s.open(ctx)
		if err == nil {
			err = req()
			if err == nil {
				return nil
			}
			s.close()
		}
		if cerr := ctxErr(ctx); cerr != nil {
			return cerr
		}
		fails = append(fails, err)
		s.cur = (s.cur + 1) % n
	}
	// The next call goes round the list again from where this one began.
	s.cur = start
	return &NoServerError{Failures: fails}
}

// ctxErr is the context's error, or DeadlineExceeded once its deadline
// has passed (a socket deadline set to it may fire a moment before the
// context's own timer).
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// fetch reads IDs into dst until at least min are there or no server is
// left, and returns how many.  A round that brought nothing is followed by
// one command 0, which waits in the server for the clock instead of
// spinning here.
func (s *conn) fetch(ctx context.Context, dst []uint64, min int, single bool) (int, error) {
	got := 0
	for got < min {
		before := got
		err := s.call(ctx, func() error { return s.round(ctx, dst, &got, single) })
		if err != nil {
			return got, err
		}
		single = !single && got == before
	}
	return got, nil
}

// round writes up to 32 CMD 1 frames for the IDs still missing (or one
// CMD 0) and reads their replies.  A short reply is not an error: the
// next round asks again.
func (s *conn) round(ctx context.Context, dst []uint64, got *int, single bool) error {
	if !s.vetted {
		if err := s.vet(ctx); err != nil {
			return err
		}
	}
	var req [window * 2]byte
	frames := 0
	if single {
		frames = 1 // req is 00 00
	} else {
		for asked := 0; frames < window && *got+asked < len(dst); frames++ {
			k := len(dst) - *got - asked
			if k > chunk {
				k = chunk
			}
			req[frames*2] = 1
			req[frames*2+1] = byte(k)
			asked += k
		}
	}
	if err := s.write(ctx, req[:frames*2]); err != nil {
		return err
	}
	for i := 0; i < frames; i++ {
		if req[i*2] == 0 {
			if err := s.take(ctx, dst, 1, got, s.c.opt.IOTimeout+clockWait); err != nil {
				return err
			}
			continue
		}
		for s.rpos == s.rlen {
			if err := s.fill(ctx, s.c.opt.IOTimeout); err != nil {
				return err
			}
		}
		m := int(s.rbuf[s.rpos])
		s.rpos++
		if m > int(req[i*2+1]) {
			return &opError{fmt.Sprintf("read %s: %d IDs in reply to a request for %d",
				s.addr(), m, req[i*2+1]), ErrProtocol, false}
		}
		if err := s.take(ctx, dst, m, got, s.c.opt.IOTimeout); err != nil {
			return err
		}
	}
	return nil
}

// take reads m IDs into dst[*got:], counting each in *got as soon as it
// is whole: IDs read before a connection breaks are kept.  An ID not
// above the one before it on this connection breaks the server's promise
// of order, and maybe of uniqueness: it is not handed out.
func (s *conn) take(ctx context.Context, dst []uint64, m int, got *int, timeout time.Duration) error {
	for m > 0 {
		if s.rlen-s.rpos < 8 {
			if err := s.fill(ctx, timeout); err != nil {
				return err
			}
			continue
		}
		for ; s.rlen-s.rpos >= 8 && m > 0; m-- {
			id := binary.BigEndian.Uint64(s.rbuf[s.rpos:])
			if s.nread > 0 && id <= s.last {
				return &opError{fmt.Sprintf("read %s: ID %d is not above the one before it, %d",
					s.addr(), id, s.last), ErrProtocol, false}
			}
			s.rpos += 8
			s.last = id
			s.nread++
			dst[*got] = id
			*got++
		}
	}
	return nil
}

// vet asks the server of a new connection for INFO: one that says it is
// not serving counts as down.  A server that names no state is taken as
// serving.
func (s *conn) vet(ctx context.Context) error {
	raw, err := s.info(ctx)
	if err != nil {
		return err
	}
	var in struct {
		State *string `json:"state"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return &opError{fmt.Sprintf("read %s: INFO reply is not JSON: %v", s.addr(), err), ErrProtocol, false}
	}
	if in.State != nil && *in.State != "serving" {
		st := *in.State
		if len(st) > 64 {
			st = st[:64]
		}
		return &opError{fmt.Sprintf("%s is not serving: its state is %s", s.addr(), st), ErrNotServing, false}
	}
	s.vetted = true
	return nil
}

// info reads the INFO reply: a 2-byte length, then the JSON text.
func (s *conn) info(ctx context.Context) ([]byte, error) {
	if err := s.write(ctx, []byte{2, 0}); err != nil {
		return nil, err
	}
	for s.rlen-s.rpos < 2 {
		if err := s.fill(ctx, s.c.opt.IOTimeout); err != nil {
			return nil, err
		}
	}
	left := int(binary.BigEndian.Uint16(s.rbuf[s.rpos:]))
	s.rpos += 2
	out := make([]byte, 0, left)
	for left > 0 {
		for s.rpos == s.rlen {
			if err := s.fill(ctx, s.c.opt.IOTimeout); err != nil {
				return nil, err
			}
		}
		k := s.rlen - s.rpos
		if k > left {
			k = left
		}
		out = append(out, s.rbuf[s.rpos:s.rpos+k]...)
		s.rpos += k
		left -= k
	}
	return out, nil
}

func (s *conn) addr() string { return s.c.addrs[s.cur] }

// open connects to the current address unless a connection is open.
func (s *conn) open(ctx context.Context) error {
	if s.nc != nil {
		return nil
	}
	d := net.Dialer{Timeout: s.c.opt.ConnectTimeout}
	nc, err := d.DialContext(ctx, "tcp", s.addr())
	if err != nil {
		return s.fail("connect", err, s.c.opt.ConnectTimeout)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		// Requests are 2-byte frames: send each at once.  Go sets
		// TCP_NODELAY already; this says so.
		_ = tc.SetNoDelay(true)
	}
	s.mu.Lock()
	s.nc = nc
	s.mu.Unlock()
	s.rpos, s.rlen = 0, 0
	s.nread = 0
	s.answered = false
	s.vetted = false
	return nil
}

// close drops the connection and whatever the server still sends:
// replies to requests that are asked again elsewhere, so IDs are skipped,
// never repeated.
func (s *conn) close() {
	s.mu.Lock()
	if s.nc != nil {
		_ = s.nc.Close()
		s.nc = nil
	}
	s.mu.Unlock()
	s.rpos, s.rlen = 0, 0
}

// arm sets the socket deadline to timeout from now, or the context's
// deadline when that comes first.  It checks the context after setting
// it, so that a cancellation the watcher saw before cannot be undone.
func (s *conn) arm(ctx context.Context, timeout time.Duration) error {
	dl := time.Now().Add(timeout)
	if cdl, ok := ctx.Deadline(); ok && cdl.Before(dl) {
		dl = cdl
	}
	if err := s.nc.SetDeadline(dl); err != nil {
		return s.fail("set deadline on", err, timeout)
	}
	return ctx.Err()
}

func (s *conn) write(ctx context.Context, b []byte) error {
	if err := s.arm(ctx, s.c.opt.IOTimeout); err != nil {
		return err
	}
	if _, err := s.nc.Write(b); err != nil {
		return s.fail("write", err, s.c.opt.IOTimeout)
	}
	return nil
}

// fill reads what the server has sent into rbuf, waiting at most timeout.
func (s *conn) fill(ctx context.Context, timeout time.Duration) error {
	if s.rpos > 0 {
		s.rlen = copy(s.rbuf, s.rbuf[s.rpos:s.rlen])
		s.rpos = 0
	}
	if err := s.arm(ctx, timeout); err != nil {
		return err
	}
	n, err := s.nc.Read(s.rbuf[s.rlen:])
	if n > 0 {
		s.rlen += n
		s.answered = true
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return s.fail("read", err, timeout)
}

// fail words a failure of what ("connect", "read", "write") on the
// current address.  The error unwraps to its cause: os.ErrDeadlineExceeded,
// io.EOF, a syscall.Errno such as ECONNREFUSED or ECONNRESET.
func (s *conn) fail(what string, err error, timeout time.Duration) error {
	c := cause(err)
	var ne net.Error
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return &opError{fmt.Sprintf("resolve %s: %v", s.addr(), dnsErr.Err), dnsErr, false}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &opError{fmt.Sprintf("%s %s: timed out after %v", what, s.addr(), timeout), os.ErrDeadlineExceeded, false}
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		how := "closed"
		if errors.Is(err, syscall.ECONNRESET) {
			how = "reset"
		}
		hint := ""
		if !s.answered {
			// genid closes a connection it refuses (allow list,
			// connection limit) without a word.
			hint = " (allow list or connection limit?)"
		}
		return &opError{fmt.Sprintf("%s %s: connection %s by the server%s", what, s.addr(), how, hint), c, true}
	}
	return &opError{fmt.Sprintf("%s %s: %v", what, s.addr(), c), c, false}
}

// opError is one failure on one address.
type opError struct {
	msg    string
	err    error
	closed bool // the server closed or reset the connection
}

func (e *opError) Error() string { return e.msg }
func (e *opError) Unwrap() error { return e.err }

// Is matches ErrServerClosed for a connection the server closed.
func (e *opError) Is(target error) bool { return e.closed && target == ErrServerClosed }

// cause strips the net package's wrapping ("dial tcp ...: connect:") down
// to the system error, which the message names once.
func cause(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
