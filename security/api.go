package security

import (
	"errors"
	"jinyin/internal/httpapi"
	"net/http"
	"strconv"
)

// Routes serves the Guard on the box's HTTP API:
//
//	GET    /security/bans            the bans in force
//	DELETE /security/bans/{addr}     lift one (404 when it is not banned)
//	GET    /security/events?since=N&limit=M   events after sequence N (default 0, limit 100, at most 1000)
func (g *Guard) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /security/bans", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, g.Bans())
	})
	mux.HandleFunc("DELETE /security/bans/{addr}", func(w http.ResponseWriter, r *http.Request) {
		switch err := g.Lift(r.PathValue("addr"), "api"); {
		case errors.Is(err, ErrNotBanned):
			httpapi.Error(w, http.StatusNotFound, err.Error())
		case err != nil:
			httpapi.Error(w, http.StatusBadRequest, err.Error())
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("GET /security/events", func(w http.ResponseWriter, r *http.Request) {
		since, limit := uint64(0), 100
		var err error
		if v := r.URL.Query().Get("since"); v != "" {
			if since, err = strconv.ParseUint(v, 10, 64); err != nil {
				httpapi.Error(w, http.StatusBadRequest, "since: a sequence number")
				return
			}
		}
		if v := r.URL.Query().Get("limit"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
				httpapi.Error(w, http.StatusBadRequest, "limit: 1 to 1000")
				return
			}
		}
		evs, err := g.Events(since, limit)
		if err != nil {
			httpapi.Error(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, evs)
	})
}

func writeJSON(w http.ResponseWriter, v any) { httpapi.JSON(w, v, nil) }
