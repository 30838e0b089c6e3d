package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// codecPathToken is the prefix of codec addresses that carry their token in
// the path (/codec/k/<token>/decode): the Temporal dev server's UI can be
// given an endpoint but no credentials.
const codecPathToken = "/codec/k/"

// maxCodecBody bounds one codec request: a page of history's payloads.
const maxCodecBody = 8 << 20

// maxCodecPayloads bounds the payloads of one request: each may name a key
// the codec looks up.
const maxCodecPayloads = 1000

// codecTokenToHeader takes a codec address's token out of the path before
// anything records the path (the trace's url.path, a log): the token moves
// to the Authorization header, where it is checked like any other, and the
// path becomes /codec/decode (or /encode).
func codecTokenToHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, codecPathToken)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		token, op, _ := strings.Cut(rest, "/")
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = "/codec/"+op, ""
		r.RequestURI = r.URL.RequestURI()
		if r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		next.ServeHTTP(w, r)
	})
}

// registerCodec serves Temporal's remote codec protocol — POST .../encode
// and .../decode with {"payloads": [...]} — so that the Temporal UI shows
// the cases' payloads decrypted to the people allowed to read them.
func (s *Server) registerCodec(mux *http.ServeMux) {
	if s.Codec == nil {
		return
	}
	handle := onlyFor(codecRoles, "read decoded payloads", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in commonpb.Payloads
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCodecBody))
		if err != nil {
			writeProblem(w, http.StatusRequestEntityTooLarge, "the payloads exceed 8 MiB")
			return
		}
		if err := protojson.Unmarshal(body, &in); err != nil {
			writeProblem(w, http.StatusBadRequest, "the body is not {\"payloads\": [...]}")
			return
		}
		if len(in.GetPayloads()) > maxCodecPayloads {
			writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("at most %d payloads a request", maxCodecPayloads))
			return
		}
		out := make([]*commonpb.Payload, len(in.GetPayloads()))
		for i, p := range in.GetPayloads() {
			var res []*commonpb.Payload
			if strings.HasSuffix(r.URL.Path, "/encode") {
				res, err = s.Codec.Encode([]*commonpb.Payload{p})
				if err != nil {
					writeFault(w, r, s.logger(), http.StatusServiceUnavailable, "cannot encode now", err)
					return
				}
			} else if res, err = s.Codec.Decode([]*commonpb.Payload{p}); err != nil {
				// An erased case's payloads stay encrypted; the others of
				// the page still decode.
				res = []*commonpb.Payload{p}
			}
			out[i] = res[0]
		}
		w.Header().Set("Content-Type", "application/json")
		// protojson is the protocol's encoding (base64 data, camelCase).
		raw, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
		if err != nil {
			writeFault(w, r, s.logger(), http.StatusInternalServerError, "cannot encode the answer", err)
			return
		}
		_, _ = w.Write(json.RawMessage(raw)) // the client went away; nothing left to tell it
	}))
	for _, op := range []string{"encode", "decode"} {
		mux.Handle("POST /codec/"+op, handle)
		mux.Handle("POST "+codecPathToken+"{token}/"+op, handle)
	}
}

// codecCORS answers the browser's preflight for the codec server and lets
// the Temporal UI's origins read its answers; other paths pass through.
func (s *Server) codecCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/codec/") {
			next.ServeHTTP(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin != "" && slices.Contains(s.CodecOrigins, origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
			h.Set("Access-Control-Max-Age", "600")
		}
		if r.Method == http.MethodOptions {
			if h.Get("Access-Control-Allow-Origin") == "" {
				writeProblem(w, http.StatusForbidden, "origin not allowed: "+origin)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
