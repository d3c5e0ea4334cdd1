/**
 * The ext_proc message definitions (proto3 source), kept in a module rather than a .proto file
 * so that a bundled build needs no file beside it; `loadExtProc` compiles it at start-up.
 */
export const EXT_PROC_PROTO = `// A self-contained subset of Envoy's ext_proc API, wire-compatible with
// envoy/service/ext_proc/v3/external_processor.proto and the messages it uses: field numbers
// and the service's full name as upstream, validate/udpa annotations dropped. One file holds
// one package, so the few messages Envoy keeps in envoy.config.core.v3, envoy.type.v3 and
// envoy.extensions.filters.http.ext_proc.v3 live here too; message package names never
// travel on the wire, only the method path does.
syntax = "proto3";

package envoy.service.ext_proc.v3;

import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/wrappers.proto";

service ExternalProcessor {
  rpc Process(stream ProcessingRequest) returns (stream ProcessingResponse);
}

message ProtocolConfiguration {
  ProcessingMode.BodySendMode request_body_mode = 1;
  ProcessingMode.BodySendMode response_body_mode = 2;
  bool send_body_without_waiting_for_header_response = 3;
}

message ProcessingRequest {
  reserved 1;
  oneof request {
    HttpHeaders request_headers = 2;
    HttpHeaders response_headers = 3;
    HttpBody request_body = 4;
    HttpBody response_body = 5;
    HttpTrailers request_trailers = 6;
    HttpTrailers response_trailers = 7;
  }
  Metadata metadata_context = 8;
  map<string, google.protobuf.Struct> attributes = 9;
  bool observability_mode = 10;
  ProtocolConfiguration protocol_config = 11;
}

message ProcessingResponse {
  oneof response {
    HeadersResponse request_headers = 1;
    HeadersResponse response_headers = 2;
    BodyResponse request_body = 3;
    BodyResponse response_body = 4;
    TrailersResponse request_trailers = 5;
    TrailersResponse response_trailers = 6;
    ImmediateResponse immediate_response = 7;
    StreamedImmediateResponse streamed_immediate_response = 11;
  }
  google.protobuf.Struct dynamic_metadata = 8;
  ProcessingMode mode_override = 9;
  google.protobuf.Duration override_message_timeout = 10;
  bool request_drain = 12;
}

message HttpHeaders {
  HeaderMap headers = 1;
  map<string, google.protobuf.Struct> attributes = 2;
  bool end_of_stream = 3;
}

message HttpBody {
  bytes body = 1;
  bool end_of_stream = 2;
  bool end_of_stream_without_message = 3;
  bool grpc_message_compressed = 4;
}

message HttpTrailers {
  HeaderMap trailers = 1;
}

message HeadersResponse {
  CommonResponse response = 1;
}

message BodyResponse {
  CommonResponse response = 1;
}

message TrailersResponse {
  HeaderMutation header_mutation = 1;
}

message CommonResponse {
  enum ResponseStatus {
    CONTINUE = 0;
    CONTINUE_AND_REPLACE = 1;
  }
  ResponseStatus status = 1;
  HeaderMutation header_mutation = 2;
  BodyMutation body_mutation = 3;
  HeaderMap trailers = 4;
  bool clear_route_cache = 5;
}

message ImmediateResponse {
  HttpStatus status = 1;
  HeaderMutation headers = 2;
  bytes body = 3;
  GrpcStatus grpc_status = 4;
  string details = 5;
}

message GrpcStatus {
  uint32 status = 1;
}

message HeaderMutation {
  repeated HeaderValueOption set_headers = 1;
  repeated string remove_headers = 2;
}

message StreamedBodyResponse {
  bytes body = 1;
  bool end_of_stream = 2;
  bool end_of_stream_without_message = 3;
  bool grpc_message_compressed = 4;
}

message StreamedImmediateResponse {
  oneof response {
    HttpHeaders headers_response = 1;
    StreamedBodyResponse body_response = 2;
    HeaderMap trailers_response = 3;
  }
}

message BodyMutation {
  oneof mutation {
    bytes body = 1;
    bool clear_body = 2;
    StreamedBodyResponse streamed_response = 3;
  }
}

message HeaderValue {
  string key = 1;
  string value = 2;
  bytes raw_value = 3;
}

message HeaderValueOption {
  enum HeaderAppendAction {
    APPEND_IF_EXISTS_OR_ADD = 0;
    ADD_IF_ABSENT = 1;
    OVERWRITE_IF_EXISTS_OR_ADD = 2;
    OVERWRITE_IF_EXISTS = 3;
  }
  HeaderValue header = 1;
  google.protobuf.BoolValue append = 2;
  HeaderAppendAction append_action = 3;
  bool keep_empty_value = 4;
}

message HeaderMap {
  repeated HeaderValue headers = 1;
}

message Metadata {
  map<string, google.protobuf.Struct> filter_metadata = 1;
}

// envoy.type.v3.HttpStatus: the codes this processor answers with (enum values are the codes).
message HttpStatus {
  StatusCode code = 1;
}

enum StatusCode {
  Empty = 0;
  OK = 200;
  BadRequest = 400;
  Unauthorized = 401;
  Forbidden = 403;
  NotFound = 404;
  PayloadTooLarge = 413;
  InternalServerError = 500;
  BadGateway = 502;
  ServiceUnavailable = 503;
  GatewayTimeout = 504;
}

message ProcessingMode {
  enum HeaderSendMode {
    DEFAULT = 0;
    SEND = 1;
    SKIP = 2;
  }
  enum BodySendMode {
    NONE = 0;
    STREAMED = 1;
    BUFFERED = 2;
    BUFFERED_PARTIAL = 3;
    FULL_DUPLEX_STREAMED = 4;
  }
  HeaderSendMode request_header_mode = 1;
  HeaderSendMode response_header_mode = 2;
  BodySendMode request_body_mode = 3;
  BodySendMode response_body_mode = 4;
  HeaderSendMode request_trailer_mode = 5;
  HeaderSendMode response_trailer_mode = 6;
}
`;
