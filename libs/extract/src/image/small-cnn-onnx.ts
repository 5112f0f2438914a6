// Writes a small convolutional image encoder as an ONNX model file: Conv 3x3 (seeded random filters) ->
// Relu -> GlobalAveragePool -> Flatten. Its features are pooled colour-and-edge responses: enough to tell
// drawn images apart, and small enough to build in a test. The protobuf is written with protobufjs from
// the subset of onnx.proto (field numbers as in onnx/onnx.proto) this graph needs.
import protobuf from 'protobufjs';
import { Rng } from '@sgfd/data';

const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message TensorShapeProto { message Dimension { int64 dim_value = 1; string dim_param = 2; } repeated Dimension dim = 1; }
message TypeProto { message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; } Tensor tensor_type = 1; }
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; repeated float float_data = 4 [packed = true]; string name = 8; }
message AttributeProto { string name = 1; float f = 2; int64 i = 3; repeated int64 ints = 8; int32 type = 20; }
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4; repeated AttributeProto attribute = 5; }
message GraphProto { repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message ModelProto { int64 ir_version = 1; string producer_name = 2; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8; }
`;

const FLOAT = 1;
const ATTRIBUTE_INTS = 7;

export interface SmallCnnOptions {
  /** Output channels = feature dimension. */
  channels: number;
  seed: number;
  inputName?: string;
  outputName?: string;
}

/** The model's bytes (an ONNX ModelProto, IR version 8, opset 13). */
export function smallCnnOnnx(options: SmallCnnOptions): Uint8Array {
  const { channels, seed } = options;
  const input = options.inputName ?? 'pixels';
  const output = options.outputName ?? 'features';
  const root = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
  const Model = root.lookupType('onnx.ModelProto');
  const rng = new Rng(seed);
  const weights = Array.from({ length: channels * 3 * 3 * 3 }, () => rng.normal() * 0.3);
  const bias = Array.from({ length: channels }, () => rng.normal() * 0.1);
  const dim = (v: number | string) => (typeof v === 'number' ? { dim_value: v } : { dim_param: v });
  const tensorType = (dims: (number | string)[]) => ({
    tensor_type: { elem_type: FLOAT, shape: { dim: dims.map(dim) } },
  });
  const ints = (name: string, values: number[]) => ({ name, ints: values, type: ATTRIBUTE_INTS });
  const model = {
    ir_version: 8,
    producer_name: 'sgfd small-cnn',
    opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'small_cnn',
      input: [{ name: input, type: tensorType(['n', 3, 'h', 'w']) }],
      output: [{ name: output, type: tensorType(['n', channels]) }],
      initializer: [
        { name: 'conv_w', dims: [channels, 3, 3, 3], data_type: FLOAT, float_data: weights },
        { name: 'conv_b', dims: [channels], data_type: FLOAT, float_data: bias },
      ],
      node: [
        {
          op_type: 'Conv',
          name: 'conv',
          input: [input, 'conv_w', 'conv_b'],
          output: ['conv_out'],
          attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])],
        },
        { op_type: 'Relu', name: 'relu', input: ['conv_out'], output: ['relu_out'] },
        { op_type: 'GlobalAveragePool', name: 'pool', input: ['relu_out'], output: ['pooled'] },
        { op_type: 'Flatten', name: 'flatten', input: ['pooled'], output: [output] },
      ],
    },
  };
  return Model.encode(Model.fromObject(model)).finish();
}
