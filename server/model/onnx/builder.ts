/**
 * Tiny helpers to assemble an ONNX ModelProto in TypeScript: unique value names, initializers,
 * nodes with attributes, graph inputs/outputs, and serialization.
 *
 * The message types come from the `onnx-proto` package (protobufjs classes generated from ONNX
 * v1.10's onnx.proto, i.e. IR version 8); we target opset 17 of the default domain, which is what
 * onnxruntime-node 1.30 was seen running (LayerNormalization is in the default domain from 17).
 * Spec: https://github.com/onnx/onnx/blob/main/docs/IR.md and docs/Operators.md.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const IR_VERSION = 8;
export const OPSET = 17;

/** Element types we use (values of onnx.TensorProto.DataType). */
export const DT = { float: 1, int32: 6, int64: 7, bool: 9 } as const;
export type ElemType = keyof typeof DT;

/** A dimension: a fixed size, or a symbolic name ("B", "T") for sizes given at run time. */
export type Dim = number | string;

/**
 * Attribute values: an integer number → INT, `{ f }` → FLOAT (so 1.0 can be a float), number[] →
 * INTS, string → STRING.
 */
export type AttrValue = number | { f: number } | number[] | string;

export class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly names = new Set<string>();
  /** value name → index of the node producing it (to rename a value in place, see `rename`). */
  private readonly producer = new Map<string, number>();
  private counter = 0;
  private readonly i64Cache = new Map<string, string>();
  private readonly outputNames = new Set<string>();

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}__${this.counter++}`;
    while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX builder: value name "${name}" is already defined`);
    this.names.add(name);
    return name;
  }

  /** A float32 initializer (constant weight) under `name`, laid out row-major with `dims`. */
  initF32(name: string, dims: number[], data: Float32Array): string {
    return this.pushF32(this.claim(name), dims, data);
  }

  private pushF32(name: string, dims: number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`ONNX builder: initializer ${name} has ${data.length} values, dims [${dims}] need ${n}`);
    this.initializers.push(
      new onnx.TensorProto({
        name,
        dims,
        dataType: DT.float,
        // raw_data is little-endian (IR.md); Float32Array is host order, which is little-endian on
        // every platform onnxruntime-node ships for.
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      }),
    );
    return name;
  }

  /** An int64 constant (shapes, axes, slice bounds), de-duplicated by value. */
  i64(values: number[], dims: number[] = [values.length]): string {
    const key = `${dims.join('x')}:${values.join(',')}`;
    const hit = this.i64Cache.get(key);
    if (hit) return hit;
    const name = this.fresh('i64');
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push(new onnx.TensorProto({ name, dims, dataType: DT.int64, rawData: new Uint8Array(raw.buffer) }));
    this.i64Cache.set(key, name);
    return name;
  }

  /** A float32 constant with a generated name. */
  f32(values: number[] | Float32Array, dims: number[]): string {
    return this.pushF32(this.fresh('f32'), dims, Float32Array.from(values));
  }

  /**
   * Appends node `op(inputs) → outputs`. `outputs` may be explicit names or a count of fresh
   * names; returns the output names. An empty input name "" marks an omitted optional input.
   */
  node(op: string, inputs: string[], outputs: string[] | number = 1, attrs: Record<string, AttrValue> = {}, domain = ''): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(op)) : outputs.map((o) => this.claim(o));
    const attribute = Object.entries(attrs).map(([name, v]) => attr(name, v));
    const idx = this.nodes.length;
    this.nodes.push(new onnx.NodeProto({ opType: op, domain, input: inputs, output: outs, attribute, name: `${op}_${idx}` }));
    for (const o of outs) this.producer.set(o, idx);
    return outs;
  }

  /** Single-output shorthand for `node`. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): string {
    return this.node(op, inputs, 1, attrs, domain)[0];
  }

  /**
   * Gives value `from` the name `to` (so it can be a graph output named exactly like a TL hook).
   * Renames the producing node's output in place when `from` has not been consumed yet; otherwise
   * (a graph input or output, or already used) inserts an Identity.
   */
  rename(from: string, to: string): string {
    const idx = this.producer.get(from);
    const consumed = this.outputNames.has(from) || this.nodes.some((n) => n.input.includes(from));
    if (idx !== undefined && !consumed) {
      const node = this.nodes[idx];
      node.output = node.output.map((o) => (o === from ? this.claim(to) : o));
      this.producer.delete(from);
      this.producer.set(to, idx);
      return to;
    }
    return this.node('Identity', [from], [to])[0];
  }

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /** Declares an existing value as a graph output; returns its name. */
  output(name: string, type: ElemType, dims: Dim[]): string {
    if (!this.names.has(name)) throw new Error(`ONNX builder: output "${name}" is not a value of this graph`);
    if (this.outputNames.has(name)) throw new Error(`ONNX builder: "${name}" is already a graph output`);
    this.outputNames.add(name);
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Serializes the model (IR 8, default-domain opset 17 plus com.microsoft for ORT contrib ops). */
  encode(graphName: string, docString = ''): Uint8Array {
    const model = new onnx.ModelProto({
      irVersion: IR_VERSION,
      producerName: 'searchlight',
      opsetImport: [
        { domain: '', version: OPSET },
        { domain: 'com.microsoft', version: 1 },
      ],
      docString,
      graph: new onnx.GraphProto({
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function attr(name: string, v: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`ONNX builder: attribute ${name}=${v} is not an integer; wrap floats as { f }`);
    return new onnx.AttributeProto({ name, type: T.INT, i: v });
  }
  if (typeof v === 'string') return new onnx.AttributeProto({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return new onnx.AttributeProto({ name, type: T.INTS, ints: v });
  return new onnx.AttributeProto({ name, type: T.FLOAT, f: v.f });
}

function valueInfo(name: string, type: ElemType, dims: Dim[]): InstanceType<typeof onnx.ValueInfoProto> {
  return new onnx.ValueInfoProto({
    name,
    type: {
      tensorType: {
        elemType: DT[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}
