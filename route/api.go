package route

import (
	"jinyin/internal/httpapi"
	"net/http"
)

// Routes serves the toll-fraud breakers on the box's HTTP API:
//
//	GET    /security/breakers          the breakers open: name -> until
//	DELETE /security/breakers/{name}   close one ("extension 1001",
//	                                   "trunk group pstn"); 404 when it is not open
func (p *Plan) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /security/breakers", func(w http.ResponseWriter, r *http.Request) {
		httpapi.JSON(w, p.Breakers(), nil)
	})
	mux.HandleFunc("DELETE /security/breakers/{name}", func(w http.ResponseWriter, r *http.Request) {
		if !p.LiftBreaker(r.PathValue("name")) {
			httpapi.Error(w, http.StatusNotFound, "no such breaker is open")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
