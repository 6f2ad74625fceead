package bridge

import (
	"context"
	"fmt"
	"io"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Graph is what the bridge asks of a number's WhatsApp Cloud API client
// (*whatsapp.Client).
type Graph interface {
	SendText(ctx context.Context, to, body string, previewURL bool, replyTo string) (string, error)
	SendTemplate(ctx context.Context, to string, tpl whatsapp.Template) (string, error)
	SendMedia(ctx context.Context, to, kind string, ref whatsapp.MediaRef, replyTo string) (string, error)
	SendReaction(ctx context.Context, to, messageID, emoji string) (string, error)
	UploadMedia(ctx context.Context, filename, mimeType string, size int64, r io.Reader) (string, error)
	UploadDocument(ctx context.Context, filename, mimeType string, size int64, r io.Reader) (string, error)
	DownloadMedia(ctx context.Context, mediaID string) (io.ReadCloser, whatsapp.MediaInfo, error)
	MarkReadTyping(ctx context.Context, messageID string) error
}

var _ Graph = (*whatsapp.Client)(nil)

func newWhatsAppClient(opts whatsapp.ClientOpts) (Graph, error) {
	return whatsapp.NewClient(opts)
}

// graphClient builds the Graph client of a number, with its opened token.
func (b *Bridge) graphClient(acc store.Account) (Graph, error) {
	sec, err := b.store.Secrets(acc)
	if err != nil {
		return nil, fmt.Errorf("open secrets of %s: %w", acc.Name, err)
	}
	return b.newGraph(whatsapp.ClientOpts{
		BaseURL: acc.GraphURL, Version: acc.GraphVersion, AccessToken: sec.AccessToken,
		PhoneNumberID: acc.PhoneNumberID, HTTPClient: b.callClient(CallGraph, acc.Name), Timeout: b.timeout,
	})
}

// OpenMedia streams an inbound media file of a number from Graph (the
// public API's download endpoint). The caller closes the reader.
func (b *Bridge) OpenMedia(ctx context.Context, accountID store.AccountID, mediaID string) (io.ReadCloser, whatsapp.MediaInfo, error) {
	acc, err := b.store.AccountByID(ctx, accountID)
	if err != nil {
		return nil, whatsapp.MediaInfo{}, fmt.Errorf("load account: %w", err)
	}
	graph, err := b.graphClient(acc)
	if err != nil {
		return nil, whatsapp.MediaInfo{}, err
	}
	return graph.DownloadMedia(ctx, mediaID)
}
