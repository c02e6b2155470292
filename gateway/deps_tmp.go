package gateway

import (
	_ "github.com/gobwas/httphead"
	_ "github.com/gobwas/ws"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "go.yaml.in/yaml/v3"
	_ "google.golang.org/grpc"
	_ "google.golang.org/protobuf/proto"
)
