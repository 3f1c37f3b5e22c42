/**
 * The annotated view: the vector shapes drawn as SVG over the display image by sharp on the server,
 * so it looks the same on every screen. The shapes are validated (numbers, #rrggbb) and the only
 * free text is XML-escaped, so nothing from the input becomes SVG markup.
 */
import sharp from 'sharp';
import type { AnnotationShape } from './schema';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function annotationSvg(shapes: AnnotationShape[], width: number, height: number): string {
  const size = Math.max(width, height);
  const stroke = Math.max(2, Math.round(size * 0.006));
  const X = (v: number) => (v * width).toFixed(1);
  const Y = (v: number) => (v * height).toFixed(1);
  const line = (colour: string) => `fill="none" stroke="${colour}" stroke-width="${stroke}" stroke-linecap="round" stroke-linejoin="round"`;
  const parts = shapes.map((s) => {
    switch (s.kind) {
      case 'circle':
        return `<circle cx="${X(s.centre.x)}" cy="${Y(s.centre.y)}" r="${(s.radius * size).toFixed(1)}" ${line(s.colour)}/>`;
      case 'freehand':
        return `<polyline points="${s.points.map((p) => `${X(p.x)},${Y(p.y)}`).join(' ')}" ${line(s.colour)}/>`;
      case 'text':
        return `<text x="${X(s.at.x)}" y="${Y(s.at.y)}" fill="${s.colour}" stroke="#000000" stroke-width="${Math.max(1, stroke / 3)}" paint-order="stroke" font-family="sans-serif" font-weight="bold" font-size="${Math.round(size * 0.04)}">${escapeXml(s.text)}</text>`;
      case 'arrow': {
        // A line and a filled head at `to`, the head's size from the stroke.
        const [x1, y1, x2, y2] = [s.from.x * width, s.from.y * height, s.to.x * width, s.to.y * height];
        const angle = Math.atan2(y2 - y1, x2 - x1);
        const head = stroke * 4;
        const wing = (a: number) => `${(x2 - head * Math.cos(angle + a)).toFixed(1)},${(y2 - head * Math.sin(angle + a)).toFixed(1)}`;
        return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" ${line(s.colour)}/>` +
          `<polygon points="${x2.toFixed(1)},${y2.toFixed(1)} ${wing(0.45)} ${wing(-0.45)}" fill="${s.colour}"/>`;
      }
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/** The display image (JPEG) with the shapes drawn on it, as a JPEG. */
export async function renderAnnotated(display: Buffer, shapes: AnnotationShape[]): Promise<Buffer> {
  const { width = 1, height = 1 } = await sharp(display).metadata();
  const svg = Buffer.from(annotationSvg(shapes, width, height));
  return sharp(display).composite([{ input: svg, top: 0, left: 0 }]).jpeg({ quality: 85 }).toBuffer();
}
