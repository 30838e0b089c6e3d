package api

import (
	"io/fs"
	"net/http"
)

// registerDocs serves GET /docs, Swagger UI over /openapi.json, from
// assets embedded in the binary (swagger-ui-dist from npm, pinned, licence
// kept beside it): the page works offline and loads nothing from a CDN.
func (s *Server) registerDocs(mux *http.ServeMux) {
	assets, err := fs.Sub(static, "static/docs")
	if err != nil {
		panic(err) // the folder is embedded
	}
	page, err := fs.ReadFile(assets, "docs.html")
	if err != nil {
		panic(err)
	}
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		docsHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page) // the client went away; nothing left to tell it
	})
	files := http.StripPrefix("/docs/assets/", http.FileServerFS(assets))
	mux.HandleFunc("GET /docs/assets/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/docs/assets/" {
			writeProblem(w, http.StatusNotFound, "no such resource: "+r.URL.Path)
			return
		}
		docsHeaders(w.Header())
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// docsHeaders keep the page to its own scripts and the API; Swagger UI
// sets inline styles and shows inline images.
func docsHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
