package connectors

import (
	"fmt"
	"sync"
)

// Registration is a registered connector kind.
type Registration struct {
	// Description describes the kind and its settings.
	Description Description
	// Factory builds a connector of this kind.
	Factory Factory
}

// Registry maps connector kinds to their descriptions and factories. It is
// safe for concurrent use. Most code uses the package-level functions, which
// use the default registry filled by the connector packages.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]Registration
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{kinds: map[string]Registration{}} }

// Register adds a kind. It panics on a duplicate kind, a nil factory or an
// invalid description: these are programming errors found at start-up.
func (r *Registry) Register(d Description, f Factory) {
	if err := d.check(); err != nil {
		panic("connectors: register: " + err.Error())
	}
	if f == nil {
		panic("connectors: register " + d.Kind + ": nil factory")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.kinds[d.Kind]; dup {
		panic("connectors: register " + d.Kind + ": duplicate kind")
	}
	r.kinds[d.Kind] = Registration{Description: d, Factory: f}
}

// Lookup returns the registration of kind.
func (r *Registry) Lookup(kind string) (Registration, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	reg, ok := r.kinds[kind]
	return reg, ok
}

// Kinds returns the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedKeys(r.kinds)
}

// All returns every registration, sorted by kind.
func (r *Registry) All() []Registration {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Registration, 0, len(r.kinds))
	for _, k := range sortedKeys(r.kinds) {
		out = append(out, r.kinds[k])
	}
	return out
}

// New validates cfg against the kind's description and builds a connector.
func (r *Registry) New(kind string, cfg Config) (Connector, error) {
	reg, ok := r.Lookup(kind)
	if !ok {
		return nil, fmt.Errorf("connectors: unknown kind %q", kind)
	}
	if err := reg.Description.ValidateConnection(cfg.BaseURL, cfg.Settings, cfg.Credentials); err != nil {
		return nil, fmt.Errorf("connectors: %s: %w", kind, err)
	}
	return reg.Factory(cfg)
}

var defaultRegistry = NewRegistry()

// Register adds a kind to the default registry; connector packages call it
// from init. It panics on a duplicate kind.
func Register(d Description, f Factory) { defaultRegistry.Register(d, f) }

// Lookup returns a kind's registration from the default registry.
func Lookup(kind string) (Registration, bool) { return defaultRegistry.Lookup(kind) }

// Kinds returns the kinds in the default registry, sorted.
func Kinds() []string { return defaultRegistry.Kinds() }

// All returns every registration in the default registry, sorted by kind.
func All() []Registration { return defaultRegistry.All() }

// New builds a connector of kind from the default registry after validating
// cfg.
func New(kind string, cfg Config) (Connector, error) { return defaultRegistry.New(kind, cfg) }
