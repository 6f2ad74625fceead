package app

// CheckKind validates a helpdesk entry of the declarative file against the
// connector registry.
var CheckKind = func(kind string, settings map[string]any, credentials map[string]string) error {
	return nil
}
