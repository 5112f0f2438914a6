// The one tfjs instance every @sgfd lib uses: import `tf` from '@sgfd/tensor', never '@tensorflow/tfjs'
// directly, so kernels registered here are the ones models run.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };
