package handler

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
)

// The PKCS#12 file is written here from the standard library because the encoders on offer give
// the key entry no friendlyName, and Java names such an entry "1": keytool and WSO2 find the key
// by its alias (wso2carbon). The algorithms are those Java 17 and OpenSSL 3 write by default:
// the private key shrouded with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), the store's integrity
// protected by HMAC-SHA256 with the PKCS#12 key derivation (RFC 7292 appendix B). Java 11.0.12
// and later, 17 and 21 read them. The certificate is public and is stored unencrypted.

var (
	oidData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidShroudedKeyBag   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Certificate  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidPBES2            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA256   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidSHA256           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	asn1Null            = asn1.RawValue{Tag: asn1.TagNull}
	pkcs12Iterations    = 10000 // Java's own default for both the key and the MAC
	pkcs12SaltBytes     = 16
	pkcs12MacKeyBytes   = sha256.Size
	pkcs12KdfBlockBytes = 64 // SHA-256's input block, v in RFC 7292 appendix B
)

type pfx struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue // [0] EXPLICIT
}

type macData struct {
	Mac        digestInfo
	Salt       []byte
	Iterations int
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue  // [0] EXPLICIT
	Attributes []bagAttribute `asn1:"set"`
}

type bagAttribute struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue // SET OF, one value
}

type certBag struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue // [0] EXPLICIT OCTET STRING
}

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	PRF        pkix.AlgorithmIdentifier
}

// explicit0 wraps DER in a [0] EXPLICIT tag.
func explicit0(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

// dataContent is a ContentInfo of type data holding content.
func dataContent(content []byte) (contentInfo, error) {
	octets, err := asn1.Marshal(content)
	if err != nil {
		return contentInfo{}, err
	}
	return contentInfo{ContentType: oidData, Content: explicit0(octets)}, nil
}

// bmpString is s in UTF-16 big-endian, as PKCS#12 writes names and MAC passwords.
func bmpString(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}

func attribute(id asn1.ObjectIdentifier, valueDER []byte) bagAttribute {
	return bagAttribute{ID: id, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: valueDER}}
}

// encodePKCS12 writes a PKCS#12 keystore holding key and its certificate as one private-key
// entry named alias, protected by password (which also opens the key, as WSO2 expects).
func encodePKCS12(random io.Reader, key any, cert *x509.Certificate, alias, password string) ([]byte, error) {
	if alias == "" || password == "" {
		return nil, errors.New("pkcs12: alias and password must not be empty")
	}
	// The entry's two bags are tied by the certificate's SHA-1 fingerprint, as keytool does.
	fingerprint := sha1.Sum(cert.Raw)
	keyID, err := asn1.Marshal(fingerprint[:])
	if err != nil {
		return nil, err
	}
	name, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagBMPString, Bytes: bmpString(alias)})
	if err != nil {
		return nil, err
	}
	attrs := []bagAttribute{attribute(oidFriendlyName, name), attribute(oidLocalKeyID, keyID)}

	shrouded, err := shroudKey(random, key, password)
	if err != nil {
		return nil, err
	}
	certOctets, err := asn1.Marshal(cert.Raw)
	if err != nil {
		return nil, err
	}
	certDER, err := asn1.Marshal(certBag{ID: oidX509Certificate, Value: explicit0(certOctets)})
	if err != nil {
		return nil, err
	}
	var safes []contentInfo
	for _, bag := range []safeBag{
		{ID: oidShroudedKeyBag, Value: explicit0(shrouded), Attributes: attrs},
		{ID: oidCertBag, Value: explicit0(certDER), Attributes: attrs},
	} {
		contents, err := asn1.Marshal([]safeBag{bag})
		if err != nil {
			return nil, err
		}
		ci, err := dataContent(contents)
		if err != nil {
			return nil, err
		}
		safes = append(safes, ci)
	}
	authSafe, err := asn1.Marshal(safes)
	if err != nil {
		return nil, err
	}
	outer, err := dataContent(authSafe)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, pkcs12SaltBytes)
	if _, err := io.ReadFull(random, salt); err != nil {
		return nil, err
	}
	// The MAC covers the authenticated safe's content, keyed from the password as a
	// NUL-terminated BMPString.
	macKey := pkcs12KDF(append(bmpString(password), 0, 0), salt, 3, pkcs12Iterations, pkcs12MacKeyBytes)
	mac := hmac.New(sha256.New, macKey)
	mac.Write(authSafe)
	return asn1.Marshal(pfx{
		Version:  3,
		AuthSafe: outer,
		MacData: macData{
			Mac:        digestInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1Null}, Digest: mac.Sum(nil)},
			Salt:       salt,
			Iterations: pkcs12Iterations,
		},
	})
}

// shroudKey encrypts key's PKCS#8 form with PBES2: PBKDF2-HMAC-SHA256 derives an AES-256 key
// from password (its UTF-8 bytes, as Java and OpenSSL use them for PBES2), CBC with PKCS#7 padding.
func shroudKey(random io.Reader, key any, password string) ([]byte, error) {
	plain, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pkcs12: %w", err)
	}
	salt := make([]byte, pkcs12SaltBytes)
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(random, salt); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(random, iv); err != nil {
		return nil, err
	}
	aesKey, err := pbkdf2.Key(sha256.New, password, salt, pkcs12Iterations, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(plain, make([]byte, pad)...)
	for i := len(plain); i < len(padded); i++ {
		padded[i] = byte(pad)
	}
	sealed := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(sealed, padded)

	kdfParams, err := asn1.Marshal(pbkdf2Params{
		Salt: salt, Iterations: pkcs12Iterations,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1Null},
	})
	if err != nil {
		return nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		Scheme: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		Data:      sealed,
	})
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2 with SHA-256: id 3 makes MAC keys.
func pkcs12KDF(password, salt []byte, id byte, iterations, size int) []byte {
	v := pkcs12KdfBlockBytes
	// fill repeats b to the next multiple of v bytes (nothing for an empty b).
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	diversifier := make([]byte, v)
	for i := range diversifier {
		diversifier[i] = id
	}
	input := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < size {
		h := sha256.New()
		h.Write(diversifier)
		h.Write(input)
		a := h.Sum(nil)
		for r := 1; r < iterations; r++ {
			s := sha256.Sum256(a)
			a = s[:]
		}
		out = append(out, a...)
		if len(out) >= size {
			break
		}
		// Each v-byte block of the input becomes (block + B + 1) mod 2^(8v), B being a repeated.
		b := fill(a)[:v]
		for j := 0; j < len(input); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(input[j+k]) + int(b[k]) + carry
				input[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:size]
}
