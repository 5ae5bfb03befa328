#pragma once
// Hand-crafted hostile model files: each is one violation of docs/gguf-format.md §1 (or of
// the safetensors format) and the words the resulting tenx::Error must contain.
// The same table generates the committed corpus in tests/model/corpus/.
#include <cstring>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace tenx::test {

struct HostileCase {
  std::string file;      // corpus file name (the extension selects the reader)
  std::string bytes;
  std::string expected;  // substring of the error message
};

// A valid one-tensor prefix helper: header + one KV.
inline GgufBytes gguf_with(int64_t n_tensors, int64_t n_kv) {
  GgufBytes g;
  g.header(n_tensors, n_kv);
  return g;
}

inline std::vector<HostileCase> hostile_gguf_cases() {
  std::vector<HostileCase> c;
  c.push_back({"empty.gguf", "", "file truncated"});
  c.push_back({"bad_magic.gguf", std::string("GGML") + GgufBytes{}.put<uint32_t>(3).b + std::string(16, '\0'),
               "not a GGUF file"});
  c.push_back({"version1.gguf", GgufBytes{}.header(0, 0, 1).b, "GGUF version 1 is not supported"});
  c.push_back({"version2.gguf", GgufBytes{}.header(0, 0, 2).b, "GGUF version 2 is not supported"});
  c.push_back({"version4.gguf", GgufBytes{}.header(0, 0, 4).b, "GGUF version 4 is not supported"});
  c.push_back({"big_endian.gguf", GgufBytes{}.header(0, 0, 3u << 24).b, "big-endian"});
  c.push_back({"negative_n_tensors.gguf", GgufBytes{}.header(-1, 0).b, "negative tensor count"});
  c.push_back({"huge_n_tensors.gguf", GgufBytes{}.header(int64_t{1} << 40, 0).b, "tensor count 1099511627776 cannot fit"});
  c.push_back({"huge_n_kv.gguf", GgufBytes{}.header(0, int64_t{1} << 50).b, "key/value count"});
  c.push_back({"truncated_kv.gguf", gguf_with(0, 2).kv_str("a.b", std::string(64, 'v')).b, "file truncated: key needs 8 bytes"});
  c.push_back({"string_len_2_62.gguf", gguf_with(0, 1).put<uint64_t>(uint64_t{1} << 62).b + "abcdefghijklmnop",
               "length 4611686018427387904"});
  c.push_back({"value_string_len_huge.gguf",
               gguf_with(0, 1).str("general.name").put<int32_t>(8).put<uint64_t>(~uint64_t{0}).b,
               "string value of key 'general.name' has length"});
  c.push_back({"array_count_huge.gguf",
               gguf_with(0, 1).str("tokenizer.ggml.tokens").put<int32_t>(9).put<int32_t>(8).put<uint64_t>(uint64_t{1} << 61).b,
               "cannot fit"});
  c.push_back({"nested_array.gguf",
               gguf_with(0, 1).str("x").put<int32_t>(9).put<int32_t>(9).put<uint64_t>(1).b + std::string(16, '\0'),
               "nested arrays"});
  c.push_back({"unknown_value_type.gguf", gguf_with(0, 1).str("x").put<int32_t>(13).put<uint32_t>(0).b,
               "unknown value type 13"});
  c.push_back({"unknown_array_type.gguf",
               gguf_with(0, 1).str("x").put<int32_t>(9).put<int32_t>(-5).put<uint64_t>(0).b, "unknown array element type -5"});
  c.push_back({"duplicate_key.gguf", gguf_with(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2).b, "duplicate key 'a.b'"});
  c.push_back({"alignment_u64.gguf", gguf_with(0, 1).kv_u64("general.alignment", 32).b,
               "general.alignment has type UINT64"});
  c.push_back({"alignment_zero.gguf", gguf_with(0, 1).kv_u32("general.alignment", 0).b, "not a nonzero power of two"});
  c.push_back({"alignment_48.gguf", gguf_with(0, 1).kv_u32("general.alignment", 48).b, "not a nonzero power of two"});

  auto one_tensor = [](const std::vector<int64_t>& ne, int32_t type, uint64_t offset, size_t data_bytes,
                       const std::string& name = "blk.0.attn_q.weight") {
    GgufBytes g;
    g.header(1, 1).kv_str("general.architecture", "llama").tensor(name, ne, type, offset).align(32).fill(data_bytes);
    return g.b;
  };
  c.push_back({"n_dims_5.gguf", one_tensor({2, 1, 1, 1, 1}, 0, 0, 32), "n_dims 5"});
  c.push_back({"negative_ne.gguf", one_tensor({-4}, 0, 0, 32), "negative dimension ne[0] = -4"});
  c.push_back({"ne_overflow.gguf", one_tensor({int64_t{1} << 32, int64_t{1} << 32}, 0, 0, 32), "overflows"});
  c.push_back({"bytes_overflow.gguf", one_tensor({int64_t{1} << 62}, 0, 0, 32), "byte size overflows"});
  c.push_back({"unknown_tensor_type.gguf", one_tensor({32}, 3, 0, 32), "unsupported tensor type 3"});
  c.push_back({"negative_tensor_type.gguf", one_tensor({32}, -1, 0, 32), "unsupported tensor type -1"});
  c.push_back({"ne0_not_block_multiple.gguf", one_tensor({31, 2}, 8, 0, 96), "not a multiple of the q8_0 block size 32"});
  c.push_back({"unaligned_offset.gguf", one_tensor({4}, 0, 4, 64), "not a multiple of the alignment"});
  c.push_back({"data_past_end.gguf", one_tensor({64}, 0, 0, 255), "extends past the end of the file"});
  c.push_back({"offset_past_end.gguf", one_tensor({8}, 0, uint64_t{1} << 63, 32), "offset"});
  c.push_back({"long_tensor_name.gguf", one_tensor({8}, 0, 0, 32, std::string(64, 'n')), "the limit is 63"});
  {
    GgufBytes g;  // second tensor reuses the first one's bytes
    g.header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 0).align(32).fill(64);
    c.push_back({"overlapping_offsets.gguf", g.b, "tensor 'b' has data offset 0, expected 32"});
  }
  {
    GgufBytes g;  // a gap between tensors: llama.cpp requires the exact running sum
    g.header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 64).align(32).fill(128);
    c.push_back({"gapped_offsets.gguf", g.b, "tensor 'b' has data offset 64, expected 32"});
  }
  {
    GgufBytes g;
    g.header(2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32).align(32).fill(64);
    c.push_back({"duplicate_tensor_name.gguf", g.b, "duplicate tensor name 'a'"});
  }
  {
    GgufBytes g;  // tensor infos cut off after n_dims
    g.header(1, 1).kv_str("general.name", std::string(40, 'n')).str("a").put<uint32_t>(2).put<int64_t>(8);
    c.push_back({"truncated_tensor_info.gguf", g.b, "file truncated"});
  }
  return c;
}

inline std::vector<HostileCase> hostile_safetensors_cases() {
  const std::string f32x4(16, '\0');
  std::vector<HostileCase> c;
  c.push_back({"short.safetensors", std::string(5, '\0'), "file truncated"});
  {
    std::string b = safetensors_bytes("{}", "");
    const uint64_t huge = uint64_t{1} << 60;
    std::memcpy(b.data(), &huge, 8);
    c.push_back({"header_len_huge.safetensors", b, "header length 1152921504606846976 exceeds"});
  }
  c.push_back({"bad_json.safetensors", safetensors_bytes("{\"a\": {\"dtype\": ", f32x4), "not valid JSON"});
  c.push_back({"json_not_object.safetensors", safetensors_bytes("[1, 2]", f32x4), "not a JSON object"});
  c.push_back({"unknown_dtype.safetensors",
               safetensors_bytes(R"({"w": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}})", f32x4),
               "dtype I64"});
  c.push_back({"offsets_out_of_range.safetensors",
               safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}})", f32x4),
               "outside the 16-byte data section"});
  c.push_back({"offsets_reversed.safetensors",
               safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", f32x4),
               "outside"});
  c.push_back({"offsets_overlap.safetensors",
               safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
                                     "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})",
                                 f32x4),
               "overlapping"});
  c.push_back({"shape_size_mismatch.safetensors",
               safetensors_bytes(R"({"w": {"dtype": "F16", "shape": [3], "data_offsets": [0, 16]}})", f32x4),
               "span 16 bytes"});
  c.push_back({"negative_offset.safetensors",
               safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [-1, 15]}})", f32x4),
               "not a non-negative integer"});
  c.push_back({"missing_fields.safetensors", safetensors_bytes(R"({"w": {"dtype": "F32"}})", f32x4),
               "needs dtype, shape and data_offsets"});
  c.push_back({"shape_overflow.safetensors",
               safetensors_bytes(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 16]}})",
                                 f32x4),
               "element count overflows"});
  return c;
}

}  // namespace tenx::test
