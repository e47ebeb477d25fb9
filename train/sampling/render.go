package sampling

import (
	"bytes"
	"dcim/models"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Colours of a rendered tableau.
var (
	background  = color.RGBA{255, 255, 255, 255}
	textColour  = color.RGBA{0, 0, 0, 255}
	wrongColour = color.RGBA{200, 0, 0, 255}
	titleColour = color.RGBA{40, 40, 110, 255}
)

var (
	fontOnce sync.Once
	fontData *opentype.Font
	fontErr  error
	faces    sync.Map // pixel size → font.Face
)

// face returns the Go Mono face of the given pixel size.
func face(px int) (font.Face, error) {
	fontOnce.Do(func() { fontData, fontErr = opentype.Parse(gomono.TTF) })
	if fontErr != nil {
		return nil, fmt.Errorf("font: %w", fontErr)
	}
	if f, ok := faces.Load(px); ok {
		return f.(font.Face), nil
	}
	f, err := opentype.NewFace(fontData, &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("font: %w", err)
	}
	faces.Store(px, f)
	return f, nil
}

// fontPixels is the text size used with a pixel scale.
func fontPixels(scale int) int { return max(10, 5*scale+2) }

// Layout is the geometry of one rendered tableau, in pixels, relative to
// its top-left corner.
type Layout struct {
	Scale          int
	Width, Height  int // of the whole tableau
	TitleH         int // caption band on top
	LeftW          int // row-name column on the left
	TileW, TileH   int // one tile: label band plus image
	LabelH         int // label band above each image
	ImageW, ImageH int // the scaled image
	Gap            int // between tiles
	ascent         int
}

// Tile returns the rectangle of image i's pixels (row-major tiles).
func (l Layout) Tile(t *Tableau, i int) image.Rectangle {
	r, c := i/t.Cols, i%t.Cols
	x := l.LeftW + c*(l.TileW+l.Gap) + (l.TileW-l.ImageW)/2
	y := l.TitleH + r*(l.TileH+l.Gap) + l.LabelH
	return image.Rect(x, y, x+l.ImageW, y+l.ImageH)
}

// Layout returns the geometry of t rendered with each pixel enlarged to
// scale×scale.
func (t *Tableau) Layout(scale int) (Layout, error) {
	if scale < 1 {
		return Layout{}, fmt.Errorf("scale %d, want at least 1", scale)
	}
	f, err := face(fontPixels(scale))
	if err != nil {
		return Layout{}, err
	}
	m := f.Metrics()
	lineH := m.Height.Ceil()
	l := Layout{Scale: scale, ImageW: t.W * scale, ImageH: t.H * scale, Gap: max(2, scale), ascent: m.Ascent.Ceil()}
	l.LabelH = lineH + 1
	labelW := font.MeasureString(f, fmt.Sprintf("%d 0.00", max(t.Classes-1, 0))).Ceil() + 2
	l.TileW = max(l.ImageW, labelW)
	l.TileH = l.LabelH + l.ImageH
	l.TitleH = lineH + l.Gap + 2
	for _, name := range t.RowNames {
		l.LeftW = max(l.LeftW, font.MeasureString(f, name).Ceil()+2*l.Gap)
	}
	l.Width = l.LeftW + t.Cols*l.TileW + (t.Cols-1)*l.Gap
	l.Width = max(l.Width, font.MeasureString(f, t.Title).Ceil())
	l.Height = l.TitleH + t.Rows*l.TileH + (t.Rows-1)*l.Gap
	return l, nil
}

// layOut places the tableaux side by side, as Render draws them: their
// layouts, the picture's size and its margin. It reads the tableaux'
// shapes, titles and row names, not their images.
func layOut(tabs []*Tableau, scale int) (layouts []Layout, width, height, margin int, err error) {
	if len(tabs) == 0 {
		return nil, 0, 0, 0, fmt.Errorf("render: no tableau")
	}
	layouts = make([]Layout, len(tabs))
	sep := 0
	for i, t := range tabs {
		l, err := t.Layout(scale)
		if err != nil {
			return nil, 0, 0, 0, fmt.Errorf("render: %w", err)
		}
		layouts[i] = l
		sep = 6 * l.Gap
		width += l.Width
		height = max(height, l.Height)
	}
	margin = sep / 2
	width += (len(tabs)-1)*sep + 2*margin
	height += 2 * margin
	return layouts, width, height, margin, nil
}

// Render draws the tableaux side by side: each image in grey levels
// (white is q = 1), its forward-model class and probability above it
// (red where that is not the class it was drawn for), row names on the
// left and a caption on top.
func Render(tabs []*Tableau, scale int) (*image.RGBA, error) {
	layouts, width, height, margin, err := layOut(tabs, scale)
	if err != nil {
		return nil, err
	}
	sep := 2 * margin
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	x := margin
	for i, t := range tabs {
		if err := t.draw(img, image.Pt(x, margin), layouts[i]); err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		x += layouts[i].Width + sep
	}
	return img, nil
}

func (t *Tableau) draw(img *image.RGBA, at image.Point, l Layout) error {
	f, err := face(fontPixels(l.Scale))
	if err != nil {
		return err
	}
	text := func(s string, c color.Color, x, y int) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: f, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	text(t.Title, titleColour, at.X, at.Y+l.ascent)
	for r, name := range t.RowNames {
		if r >= t.Rows {
			break
		}
		y := at.Y + l.TitleH + r*(l.TileH+l.Gap) + l.LabelH + (l.ImageH+l.ascent)/2
		text(name, titleColour, at.X+l.Gap, y)
	}
	size := t.C * t.H * t.W
	plane := t.H * t.W
	for i := range t.N() {
		if t.blank(i) {
			continue
		}
		rect := l.Tile(t, i).Add(at)
		px := t.Images[i*size : (i+1)*size]
		for y := range t.H {
			for x := range t.W {
				var c color.RGBA
				if t.C == 3 {
					c = color.RGBA{grey(px[y*t.W+x]), grey(px[plane+y*t.W+x]), grey(px[2*plane+y*t.W+x]), 255}
				} else {
					g := grey(px[y*t.W+x])
					c = color.RGBA{g, g, g, 255}
				}
				cell := image.Rect(x*l.Scale, y*l.Scale, (x+1)*l.Scale, (y+1)*l.Scale).Add(rect.Min)
				draw.Draw(img, cell, image.NewUniform(c), image.Point{}, draw.Src)
			}
		}
		if t.Pred == nil {
			continue
		}
		label := fmt.Sprintf("%d %.2f", t.Pred[i], t.Prob[i])
		col := color.Color(textColour)
		if t.Pred[i] != t.Labels[i] {
			col = wrongColour
		}
		w := font.MeasureString(f, label).Ceil()
		tileX := at.X + l.LeftW + (i%t.Cols)*(l.TileW+l.Gap)
		text(label, col, tileX+(l.TileW-w)/2, rect.Min.Y-l.LabelH+l.ascent)
	}
	return nil
}

// grey maps a probability to an 8-bit grey level.
func grey(v float32) uint8 {
	switch {
	case !(v > 0):
		return 0
	case v >= 1:
		return 255
	}
	return uint8(v*255 + 0.5)
}

// MaxPixels bounds the pixels of a picture the commands draw (an RGBA
// image of 64 Mpixels takes 256 MB); they check a request against it with
// TilePixels before anything is computed.
const MaxPixels = 64 << 20

// TilePixels is the area of n tiles of images of the shape in, enlarged
// scale times, each with the one-pixel border EncodePNG draws around it.
func TilePixels(n int64, in models.Shape, scale int) int64 {
	return n * int64(in.H*scale+2) * int64(in.W*scale+2)
}

// EncodePNG renders the tableaux and returns the PNG bytes.
func EncodePNG(tabs []*Tableau, scale int) ([]byte, error) {
	img, err := Render(tabs, scale)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("png: %w", err)
	}
	return buf.Bytes(), nil
}
