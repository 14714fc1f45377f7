// Package httpapi is the HTTP API's one convention for answers, shared by
// the packages that own routes (web, route, security): JSON bodies, and
// errors as a status with {"error": why}.
package httpapi

import (
	"encoding/json"
	"net/http"
)

// Error answers code with {"error": why}.
func Error(w http.ResponseWriter, code int, why string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": why})
}

// JSON answers v as JSON, or err as a 500.
func JSON(w http.ResponseWriter, v any, err error) {
	if err != nil {
		Error(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
