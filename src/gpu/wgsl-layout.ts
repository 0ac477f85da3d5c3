// Reads the binding declarations and the uniform `Params` struct of a WGSL
// file, so that callers bind buffers and parameters by name and the runtime
// builds an explicit bind-group layout once per file.
export type BindingAccess = 'uniform' | 'read' | 'read_write';

export interface WgslBinding {
  binding: number;
  name: string;
  access: BindingAccess;
  /**
   * Scalar type of a storage array's elements (`array<vec4<f32>>` is f32); null for the uniform.
   * The runtime binds only tensors of this dtype, except to u32 arrays, which read raw bits (the
   * sampler reads f32 logits as u32 to test for NaN without a float compare).
   */
  element: 'f32' | 'i32' | 'u32' | null;
}

export interface UniformField {
  name: string;
  type: 'u32' | 'i32' | 'f32';
}

export interface WgslLayout {
  bindings: WgslBinding[];
  /** Fields of the struct bound as the uniform, in declaration order (4 bytes each). */
  params: UniformField[];
}

const BINDING_RE = /@group\(\s*0\s*\)\s*@binding\(\s*(\d+)\s*\)\s*var\s*<\s*(uniform|storage)\s*(?:,\s*(read|read_write))?\s*>\s*(\w+)\s*:\s*([\w<>,\s]+?)\s*;/g;

export function parseWgslLayout(source: string, file: string): WgslLayout {
  const bindings: WgslBinding[] = [];
  let uniformType: string | null = null;
  for (const m of source.matchAll(BINDING_RE)) {
    const [, num, space, access, name, type] = m;
    if (space === 'uniform') {
      uniformType = type!.trim();
      bindings.push({ binding: Number(num), name: name!, access: 'uniform', element: null });
    } else {
      const element = /^array\s*<\s*(?:vec[234]\s*<\s*)?(?:atomic\s*<\s*)?(f32|i32|u32)\b/.exec(type!.trim())?.[1];
      if (!element) throw new Error(`${file}: storage binding '${name}' must be an array of f32, i32 or u32 (or vectors of them), got ${type!.trim()}`);
      bindings.push({ binding: Number(num), name: name!, access: access === 'read_write' ? 'read_write' : 'read', element: element as 'f32' | 'i32' | 'u32' });
    }
  }
  if (bindings.length === 0) throw new Error(`${file}: no @group(0) @binding(n) declarations found`);
  const seen = new Set<number>();
  for (const b of bindings) {
    if (seen.has(b.binding)) throw new Error(`${file}: binding ${b.binding} declared twice`);
    seen.add(b.binding);
  }
  bindings.sort((a, b) => a.binding - b.binding);
  const params: UniformField[] = [];
  if (uniformType) {
    const structRe = new RegExp(`struct\\s+${uniformType}\\s*\\{([^}]*)\\}`);
    const body = structRe.exec(source)?.[1];
    if (body === undefined) throw new Error(`${file}: uniform struct ${uniformType} not found`);
    for (const field of body.replace(/\/\/.*$/gm, '').split(',')) {
      const f = field.trim();
      if (!f) continue;
      const fm = /^(\w+)\s*:\s*(\w+)$/.exec(f);
      if (!fm || !['u32', 'i32', 'f32'].includes(fm[2]!)) {
        throw new Error(`${file}: uniform field '${f}' must be a scalar u32, i32 or f32`);
      }
      params.push({ name: fm[1]!, type: fm[2] as UniformField['type'] });
    }
  }
  return { bindings, params };
}
