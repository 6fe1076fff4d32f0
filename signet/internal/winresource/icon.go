package winresource

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"

	"github.com/tc-hib/winres"
)

// MaxIconSize is the largest Icon accepted, in bytes.
const MaxIconSize = 4 << 20

// maxIconImages is the most images an ICO file may hold.
const maxIconImages = 64

// maxIconPixels is the largest width and height of an icon image.
const maxIconPixels = 256

const (
	icoHeaderSize = 6
	icoEntrySize  = 16
	bmpHeaderSize = 40 // BITMAPINFOHEADER, which starts an uncompressed icon image
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// loadIcon turns .ico or .png bytes into an icon. ICO images are kept byte for byte; a PNG
// is decoded and re-encoded as one 32-bit image (deterministically).
func loadIcon(b []byte) (*winres.Icon, error) {
	if len(b) > MaxIconSize {
		return nil, fmt.Errorf("%d bytes, over the limit of %d", len(b), MaxIconSize)
	}
	switch {
	case bytes.HasPrefix(b, pngSignature):
		return loadPNG(b)
	case len(b) >= 4 && binary.LittleEndian.Uint16(b) == 0 && binary.LittleEndian.Uint16(b[2:]) == 1:
		if err := checkICO(b); err != nil {
			return nil, fmt.Errorf("malformed ICO file: %w", err)
		}
		icon, err := winres.LoadICO(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("malformed ICO file: %w", err)
		}
		return icon, nil
	}
	return nil, fmt.Errorf("neither an ICO file nor a PNG image (starts with %q)", b[:min(len(b), 8)])
}

// loadPNG decodes a PNG of at most maxIconPixels square, checking its size before decoding.
func loadPNG(b []byte) (*winres.Icon, error) {
	if err := checkPNGSize(b); err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("malformed PNG image: %w", err)
	}
	icon, err := winres.NewIconFromImages([]image.Image{img})
	if err != nil {
		return nil, fmt.Errorf("converting the PNG image: %w", err)
	}
	return icon, nil
}

// checkPNGSize reads a PNG's header and refuses images that are empty or too large.
func checkPNGSize(b []byte) error {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("malformed PNG image: %w", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxIconPixels || cfg.Height > maxIconPixels {
		return fmt.Errorf("the PNG image is %dx%d pixels; an icon is at most %dx%d",
			cfg.Width, cfg.Height, maxIconPixels, maxIconPixels)
	}
	return nil
}

// checkICO checks an ICO file's directory: a sane number of images, each inside the file,
// after the directory, and either a PNG of at most 256x256 or a BITMAPINFOHEADER.
func checkICO(b []byte) error {
	if len(b) < icoHeaderSize {
		return errors.New("shorter than its header")
	}
	n := int(binary.LittleEndian.Uint16(b[4:]))
	if n < 1 || n > maxIconImages {
		return fmt.Errorf("%d images; an icon has 1 to %d", n, maxIconImages)
	}
	dirEnd := icoHeaderSize + n*icoEntrySize
	if dirEnd > len(b) {
		return fmt.Errorf("the directory of %d images does not fit in %d bytes", n, len(b))
	}
	for k := range n {
		e := b[icoHeaderSize+k*icoEntrySize:]
		size := int64(binary.LittleEndian.Uint32(e[8:]))
		off := int64(binary.LittleEndian.Uint32(e[12:]))
		if size < 1 || off < int64(dirEnd) || off+size > int64(len(b)) {
			return fmt.Errorf("image %d (%d bytes at offset %d) is not inside the file after the directory", k+1, size, off)
		}
		img := b[off : off+size]
		switch {
		case bytes.HasPrefix(img, pngSignature):
			if err := checkPNGSize(img); err != nil {
				return fmt.Errorf("image %d: %w", k+1, err)
			}
		case len(img) >= bmpHeaderSize && binary.LittleEndian.Uint32(img) == bmpHeaderSize:
		default:
			return fmt.Errorf("image %d is neither a PNG nor a bitmap", k+1)
		}
	}
	return nil
}
