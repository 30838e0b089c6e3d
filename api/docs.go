package api

import "net/http"

// registerDocs serves GET /docs, Swagger UI over /openapi.json, from
// assets embedded in the binary (swagger-ui-dist from npm, pinned, licence
// kept beside it): the page works offline and loads nothing from a CDN.
func (s *Server) registerDocs(mux *http.ServeMux) {
	servePage(mux, "/docs", "static/docs", "docs.html", docsHeaders)
}

// docsHeaders keep the page to its own scripts and the API; Swagger UI
// sets inline styles and shows inline images.
func docsHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
