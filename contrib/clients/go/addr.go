// SPDX-License-Identifier: BSD-2-Clause

package genid

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// DefaultPort is the port of an address given without one.
const DefaultPort = 3778

// parseAddr turns "host", "host:port", "[v6]:port" or a bare IPv6
// address into the host:port form net.Dial takes.
func parseAddr(s string) (string, error) {
	host, port := s, ""
	switch {
	case s == "":
		return "", fmt.Errorf("genid: empty address")
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", fmt.Errorf("genid: address %q has no closing ]", s)
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", fmt.Errorf("genid: address %q: expected :port after ]", s)
			}
			port = rest[1:]
			if port == "" {
				return "", fmt.Errorf("genid: address %q: empty port", s)
			}
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
		if port == "" {
			return "", fmt.Errorf("genid: address %q: empty port", s)
		}
	}
	// More than one colon without brackets: a bare IPv6 address.
	if host == "" {
		return "", fmt.Errorf("genid: address %q has no host", s)
	}
	p := DefaultPort
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return "", fmt.Errorf("genid: address %q: port %q is not a number in 1..65535", s, port)
		}
		p = int(n)
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}
