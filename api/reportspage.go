package api

import (
	"embed"
	"io/fs"
	"net/http"
)

// static holds the reports page and its assets, Chart.js among them (its
// UMD build from npm, licence header intact): the page needs no CDN.
//
//go:embed static
var static embed.FS

// registerReportsPage serves GET /reports, a page of charts filled from
// /v1/reports/summary, and its assets under /reports/assets/.
func (s *Server) registerReportsPage(mux *http.ServeMux) {
	servePage(mux, "/reports", "static", "reports.html", pageHeaders)
}

// registerIcon serves the icon browsers ask every page's origin for; it
// needs no sign-in, so that no page's console shows a refused request.
func registerIcon(mux *http.ServeMux) {
	icon, err := static.ReadFile("static/favicon.svg")
	if err != nil {
		panic(err) // embedded above
	}
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(icon) // the client went away; nothing left to tell it
	})
}

// servePage serves an embedded page at path and the files of its folder
// under path/assets/, each answer with the page's headers.
func servePage(mux *http.ServeMux, path, folder, page string, headers func(http.Header)) {
	assets, err := fs.Sub(static, folder)
	if err != nil {
		panic(err) // the folder is embedded above
	}
	body, err := fs.ReadFile(assets, page)
	if err != nil {
		panic(err)
	}
	mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		headers(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body) // the client went away; nothing left to tell it
	})
	prefix := path + "/assets/"
	files := http.StripPrefix(prefix, http.FileServerFS(assets))
	mux.HandleFunc("GET "+prefix, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == prefix || r.URL.Path == prefix+page {
			writeProblem(w, http.StatusNotFound, "no such resource: "+r.URL.Path)
			return
		}
		headers(w.Header())
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// pageHeaders keep the page to its own scripts and the API.
func pageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
