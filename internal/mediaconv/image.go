package mediaconv

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // decoders for image.Decode
	"image/jpeg"
	_ "image/png"
	"io"
	"math"
	"os"

	xdraw "golang.org/x/image/draw"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// jpegQuality is the quality converted images are encoded at.
const jpegQuality = 85

// image converts an image file to a JPEG under WhatsApp's 5 MB, scaling it
// down when needed. from names the source format for the note; why says
// why it was converted.
func (c *Converter) image(ctx context.Context, name, ctype, from string, r io.ReadCloser, why string) (Output, error) {
	in, err := c.spool(r, "relaydesk-img-*")
	if err != nil {
		return Output{}, err
	}
	defer removeFile(in)
	cfg, _, err := image.DecodeConfig(in)
	if err != nil {
		return Output{}, fmt.Errorf("%w: %s could not be read as an image (%v)", ErrUnsupported, ctype, err)
	}
	if cfg.Width*cfg.Height > MaxPixels {
		return Output{}, fmt.Errorf("%w: a %dx%d image is larger than relaydesk converts (%d megapixels)", whatsapp.ErrMediaTooLarge, cfg.Width, cfg.Height, MaxPixels/1_000_000)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return Output{}, err
	}
	img, _, err := image.Decode(in) // a GIF's first frame
	if err != nil {
		return Output{}, fmt.Errorf("%w: %s could not be decoded (%v)", ErrUnsupported, ctype, err)
	}
	if err := ctx.Err(); err != nil {
		return Output{}, err
	}
	out, scaled, err := c.jpegUnder(img, whatsapp.MaxImageBytes)
	if err != nil {
		return Output{}, err
	}
	b := img.Bounds()
	note := fmt.Sprintf("%s was converted from %s to JPEG (%s)", name, from, why)
	if scaled != b.Size() {
		note += fmt.Sprintf(", scaled from %dx%d to %dx%d to fit", b.Dx(), b.Dy(), scaled.X, scaled.Y)
	}
	return fileOutput(out, whatsapp.TypeImage, withExt(name, ".jpg"), "image/jpeg", note+".")
}

// jpegUnder encodes img as a JPEG of at most limit bytes into a temporary
// file, scaling it down (each try by the square root of how much too large
// it was, and a tenth more) until it fits. It returns the size encoded.
func (c *Converter) jpegUnder(img image.Image, limit int64) (*os.File, image.Point, error) {
	flat := flatten(img)
	size := flat.Bounds().Size()
	for try := 0; try < 6; try++ {
		src := image.Image(flat)
		if size != flat.Bounds().Size() {
			dst := image.NewRGBA(image.Rectangle{Max: size})
			xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), flat, flat.Bounds(), xdraw.Src, nil)
			src = dst
		}
		f, err := os.CreateTemp(c.TempDir, "relaydesk-jpg-*")
		if err != nil {
			return nil, size, err
		}
		if err := jpeg.Encode(f, src, &jpeg.Options{Quality: jpegQuality}); err != nil {
			removeFile(f)
			return nil, size, err
		}
		st, err := f.Stat()
		if err != nil {
			removeFile(f)
			return nil, size, err
		}
		if st.Size() <= limit {
			return f, size, nil
		}
		removeFile(f)
		k := math.Sqrt(float64(limit)/float64(st.Size())) * 0.9
		size = image.Pt(max(1, int(float64(size.X)*k)), max(1, int(float64(size.Y)*k)))
	}
	return nil, size, fmt.Errorf("%w: the image does not fit WhatsApp's 5 MB even scaled down", whatsapp.ErrMediaTooLarge)
}

// flatten draws img on white: JPEG has no transparency.
func flatten(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rectangle{Max: b.Size()})
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	return dst
}
