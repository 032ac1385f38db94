package mfa

import (
	"fmt"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// QRCodePNG renders an otpauth URI as a PNG image of size×size pixels
// (128 to 1024; 256 when 0), error correction level M. The account page
// serves it from its own origin, since its CSP allows no data: URIs.
func QRCodePNG(otpauthURI string, size int) ([]byte, error) {
	if size == 0 {
		size = 256
	}
	if size < 128 || size > 1024 {
		return nil, fmt.Errorf("mfa: qr code size %d out of range", size)
	}
	if !strings.HasPrefix(otpauthURI, "otpauth://") || len(otpauthURI) > 1024 {
		return nil, fmt.Errorf("mfa: not an otpauth URI")
	}
	png, err := qrcode.Encode(otpauthURI, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("mfa: qr code: %w", err)
	}
	return png, nil
}
