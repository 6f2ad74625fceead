package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// pathID reads the path parameter name as a row id of type T; a malformed
// or non-positive one is a 404, like an unknown one.
func pathID[T ~int64](c echo.Context, name string) (T, error) {
	id, err := parseID[T](c.Param(name))
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound)
	}
	return id, nil
}

// parseID reads a row id of type T written in decimal.
func parseID[T ~int64](s string) (T, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	return T(n), err
}

// byID loads the entry the :id path parameter names; a bad or unknown id
// is a 404.
func byID[ID ~int64, T any](c echo.Context, load func(context.Context, ID) (T, error)) (T, error) {
	id, err := pathID[ID](c, "id")
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := load(c.Request().Context(), id)
	return v, notFoundOr(err)
}

// idText writes a row id in decimal, for paths and headers.
func idText[T ~int64](id T) string { return strconv.FormatInt(int64(id), 10) }
