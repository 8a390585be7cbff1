// A loopback APNs-like HTTP/2 server built on Go's crypto/tls and net/http (standard library only), so that
// `probe` meets a real Go TLS stack: with ClientAuth RequireAndVerifyClientCert, a TLS 1.3 server verifies the
// client certificate after the client has sent its Finished, and refuses it with an alert that arrives after the
// client's handshake is complete (crypto/tls handshake_server_tls13.go, readClientCertificate).
//
// Usage: go-apns -cert server.pem -key server.key -client-ca ca.pem -tls 1.3|1.2 [-plain]
// Prints "listening <port>" on stdout once it accepts connections, then serves until killed or stdin closes.
// A push to a device token answers like APNs: 400 {"reason":"BadDeviceToken"} (Apple, "Handling notification
// responses from APNs"). With -plain it serves plain HTTP/1.1 on the port instead (no TLS at all).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

func main() {
	certFile := flag.String("cert", "", "server certificate (PEM)")
	keyFile := flag.String("key", "", "server key (PEM)")
	clientCA := flag.String("client-ca", "", "CA that signs accepted client certificates (PEM)")
	version := flag.String("tls", "1.3", "TLS version: 1.3 or 1.2")
	plain := flag.Bool("plain", false, "serve plain HTTP, no TLS")
	flag.Parse()

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("content-type", "application/json")
		w.Header().Set("apns-id", "00000000-0000-0000-0000-000000000000")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"reason":"BadDeviceToken"}`))
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	server := &http.Server{Handler: handler}
	if !*plain {
		pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fail(err)
		}
		pemBytes, err := os.ReadFile(*clientCA)
		if err != nil {
			fail(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			fail(fmt.Errorf("no certificate in %s", *clientCA))
		}
		config := &tls.Config{
			Certificates: []tls.Certificate{pair},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    pool,
			MinVersion:   tls.VersionTLS13,
			MaxVersion:   tls.VersionTLS13,
		}
		if *version == "1.2" {
			config.MinVersion = tls.VersionTLS12
			config.MaxVersion = tls.VersionTLS12
		}
		server.TLSConfig = config
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)

	// The test owns this process: when it closes stdin (or dies), the server ends.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if *plain {
		err = server.Serve(ln)
	} else {
		// ServeTLS configures HTTP/2 ("h2" by ALPN) on the server, as APNs speaks it.
		err = server.ServeTLS(ln, "", "")
	}
	fail(err)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
