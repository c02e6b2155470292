package admin

import (
	"net"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// tcpOnlyTLS serves TLS on TCP connections and plaintext on Unix socket connections, so one
// grpc.Server can serve both (file permissions protect the socket).
type tcpOnlyTLS struct {
	credentials.TransportCredentials // TLS
}

// ServerHandshake does the TLS handshake unless conn is a Unix socket connection.
func (c tcpOnlyTLS) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if conn.LocalAddr().Network() == "unix" {
		return insecure.NewCredentials().ServerHandshake(conn)
	}
	return c.TransportCredentials.ServerHandshake(conn)
}

// Clone returns a copy.
func (c tcpOnlyTLS) Clone() credentials.TransportCredentials {
	return tcpOnlyTLS{c.TransportCredentials.Clone()}
}
