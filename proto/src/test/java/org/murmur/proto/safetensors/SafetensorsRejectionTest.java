package org.murmur.proto.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.murmur.proto.safetensors.RawSafetensors.assertRejected;
import static org.murmur.proto.safetensors.RawSafetensors.bytes;
import static org.murmur.proto.safetensors.RawSafetensors.json;
import static org.murmur.proto.safetensors.RawSafetensors.tensor;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every malformed input the spec lists must fail to open, naming the file and the tensor at fault. */
class SafetensorsRejectionTest {
    private static final String W = tensor("w", "F32", "[2]", 0, 8);

    @TempDir
    Path dir;

    private Path file(String header, byte[] data) throws IOException {
        return RawSafetensors.write(dir.resolve("bad.safetensors"), header, data);
    }

    // --- the length field and the header bytes ---

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7})
    void rejectsFileShorterThanTheLengthField(int size) throws IOException {
        Path file = Files.write(dir.resolve("short.safetensors"), new byte[size]);
        assertRejected(file, "truncated", "shorter than the 8-byte header length");
    }

    @Test
    void rejectsZeroHeaderLength() throws IOException {
        assertRejected(RawSafetensors.write(dir.resolve("zero.safetensors"), 0, new byte[0], bytes(8)),
                "header length is 0");
    }

    @Test
    void rejectsMaxU64HeaderLengthWhichReadsAsMinusOne() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("max.safetensors"), -1L, "{}".getBytes(StandardCharsets.UTF_8),
                new byte[0]);
        assertRejected(file, "header length 18446744073709551615 is larger than the 2 bytes");
    }

    @Test
    void rejectsFileCutInsideTheHeader() throws IOException {
        byte[] header = ("{" + W + "}").getBytes(StandardCharsets.UTF_8);
        byte[] cut = java.util.Arrays.copyOf(header, header.length - 5);
        Path file = RawSafetensors.write(dir.resolve("cut.safetensors"), header.length, cut, new byte[0]);
        assertRejected(file, "truncated", "header length " + header.length + " is larger than the "
                + cut.length + " bytes");
    }

    @Test
    void rejectsHeaderLongerThanTheOfficialLimitEvenIfTheFileHoldsIt() throws IOException {
        long headerLength = 100_000_001L;
        Path file = dir.resolve("huge-header.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(RawSafetensors.lengthField(headerLength));
            raf.setLength(8 + headerLength); // sparse: nothing past the length field is read
        }
        assertRejected(file, "header length 100000001 exceeds the limit of 100000000 bytes");
    }

    @Test
    void rejectsHeaderThatIsNotUtf8() throws IOException {
        byte[] header = json("{'\u0000\u0000':{}}").getBytes(StandardCharsets.UTF_8);
        header[2] = (byte) 0xC3; // a lead byte followed by '(' is malformed UTF-8
        header[3] = (byte) 0x28;
        Path file = RawSafetensors.write(dir.resolve("latin.safetensors"), header.length, header, new byte[0]);
        assertRejected(file, "not valid UTF-8");
    }

    // --- the JSON shape ---

    @ParameterizedTest
    @ValueSource(strings = {"[]", "'w'", "42", "null", "        "})
    void rejectsHeaderThatIsNotAnObject(String header) throws IOException {
        assertRejected(file(json(header), new byte[0]), "not a JSON object");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{'w':", "{'w':{'dtype':'F32',}}", "{'w' {}}", "{'w':{'dtype':'F32', x}}", "{/*c*/}"})
    void rejectsMalformedJson(String header) throws IOException {
        assertRejected(file(json(header), new byte[0]), "not valid JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{} x", "{}{}", "{}\n", "{} \t", "{}\u0000"})
    void rejectsAnythingButSpacesAfterTheObject(String header) throws IOException {
        assertRejected(file(header, new byte[0]), "only spaces may pad a header");
    }

    @Test
    void rejectsDuplicateTensorName() throws IOException {
        String header = "{" + W + "," + tensor("v", "F32", "[1]", 8, 12) + "," + W + "}";
        assertRejected(file(header, bytes(12)), "duplicate tensor name 'w'");
    }

    @Test
    void rejectsDuplicateTensorNameEvenWhenBothEntriesAreIdentical() throws IOException {
        assertRejected(file("{" + W + "," + W + "}", bytes(8)), "duplicate tensor name 'w'");
    }

    @Test
    void rejectsDuplicateKeyInsideATensor() throws IOException {
        String header = json("{'w':{'dtype':'F32','shape':[2],'dtype':'F16','data_offsets':[0,8]}}");
        assertRejected(file(header, bytes(8)), "tensor 'w': duplicate key 'dtype'");
    }

    @Test
    void rejectsDuplicateMetadata() throws IOException {
        String header = json("{'__metadata__':{},'__metadata__':{}}");
        assertRejected(file(header, new byte[0]), "duplicate tensor name '__metadata__'");
        assertRejected(file(json("{'__metadata__':{'a':'1','a':'2'}}"), new byte[0]),
                "__metadata__: duplicate key 'a'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "'x'", "null", "{'a':1}", "{'a':null}", "{'a':{'b':'c'}}", "{'a':['b']}"})
    void rejectsMetadataThatIsNotStringToString(String metadata) throws IOException {
        assertRejected(file(json("{'__metadata__':" + metadata + "}"), new byte[0]), "__metadata__");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "'F32'", "null", "4"})
    void rejectsTensorEntryThatIsNotAnObject(String entry) throws IOException {
        assertRejected(file(json("{'w':" + entry + "}"), new byte[0]), "tensor 'w': entry is not a JSON object");
    }

    // --- the tensor fields ---

    @ParameterizedTest
    @ValueSource(strings = {"dtype", "shape", "data_offsets"})
    void rejectsMissingField(String field) throws IOException {
        String full = json("'dtype':'F32','shape':[2],'data_offsets':[0,8]");
        String without = full.replaceAll("\"" + field + "\":(\"F32\"|\\[[0-9,]*\\]),?", "").replaceAll(",$", "");
        assertRejected(file("{\"w\":{" + without + "}}", bytes(8)), "tensor 'w': missing '" + field + "'");
    }

    @Test
    void rejectsUnknownKey() throws IOException {
        String header = json("{'w':{'dtype':'F32','shape':[2],'data_offsets':[0,8],'offset':0}}");
        assertRejected(file(header, bytes(8)), "tensor 'w': unknown key 'offset'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"I64", "F64", "U8", "BOOL", "f32", "F8_E4M3", ""})
    void rejectsUnsupportedDtypeNamingIt(String dtype) throws IOException {
        assertRejected(file("{" + tensor("w", dtype, "[2]", 0, 8) + "}", bytes(8)),
                "tensor 'w': unsupported dtype " + dtype + "; supported: F32, F16, BF16");
    }

    @Test
    void rejectsDtypeThatIsNotAString() throws IOException {
        assertRejected(file(json("{'w':{'dtype':4,'shape':[2],'data_offsets':[0,8]}}"), bytes(8)),
                "tensor 'w': dtype is not a string");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[-1]", "[2.0]", "['2']", "[[2]]", "[null]", "[9223372036854775808]", "2", "{}"})
    void rejectsShapeThatIsNotAnArrayOfNaturals(String shape) throws IOException {
        assertRejected(file("{" + tensor("w", "F32", shape, 0, 8) + "}", bytes(8)), "tensor 'w': shape");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[0]", "[0,8,8]", "[]", "[-1,8]", "[0,8.0]", "[0,'8']", "8"})
    void rejectsDataOffsetsThatAreNotTwoNaturals(String offsets) throws IOException {
        String header = json("{'w':{'dtype':'F32','shape':[2],'data_offsets':" + offsets + "}}");
        assertRejected(file(header, bytes(8)), "tensor 'w': data_offsets");
    }

    @Test
    void rejectsDataOffsetsThatBeginAfterTheyEnd() throws IOException {
        assertRejected(file("{" + tensor("w", "F32", "[0]", 8, 0) + "}", bytes(8)),
                "tensor 'w': data_offsets [8, 0] begin after they end");
    }

    @Test
    void rejectsDataOffsetsThatDisagreeWithTheShape() throws IOException {
        Path file = file("{" + tensor("w", "F16", "[4]", 0, 12) + "}", bytes(12));
        SafetensorsException e = assertRejected(file,
                "tensor 'w': data_offsets [0, 12] hold 12 bytes but shape [4] of F16 needs 8");
        assertEquals(file, e.file());
        assertEquals(Optional.of("w"), e.tensorName());
    }

    @Test
    void rejectsShapeWhoseElementCountOverflows() throws IOException {
        assertRejected(file("{" + tensor("w", "F32", "[4294967296,4294967296,4]", 0, 8) + "}", bytes(8)),
                "tensor 'w': shape [4294967296, 4294967296, 4] of F32 needs more than 2^63 bytes");
    }

    @Test
    void rejectsShapeWhoseByteCountOverflows() throws IOException {
        assertRejected(file("{" + tensor("w", "F32", "[4611686018427387904]", 0, 8) + "}", bytes(8)),
                "tensor 'w': shape [4611686018427387904] of F32 needs more than 2^63 bytes");
    }

    // --- the data buffer ---

    @Test
    void rejectsDataOffsetsBeyondTheFileAsTruncated() throws IOException {
        String header = "{" + W + "," + tensor("v", "F32", "[2]", 8, 16) + "}";
        assertRejected(file(header, bytes(12)), "tensor 'v': truncated: data_offsets [8, 16]", "12-byte data buffer");
    }

    @Test
    void rejectsMissingDataAsTruncated() throws IOException {
        assertRejected(file("{" + W + "}", new byte[0]), "tensor 'w': truncated");
    }

    @Test
    void rejectsTruncatedDataWhenAZeroLengthTensorPointsPastTheEnd() throws IOException {
        String header = "{" + W + "," + tensor("e", "F32", "[0]", 16, 16) + "}";
        assertRejected(file(header, bytes(8)), "tensor 'e': truncated");
    }

    @Test
    void rejectsTrailingBytesAfterTheLastTensor() throws IOException {
        assertRejected(file("{" + W + "}", bytes(9)), "1 trailing bytes after the last tensor");
    }

    @Test
    void rejectsGapBeforeTheFirstTensor() throws IOException {
        assertRejected(file("{" + tensor("w", "F32", "[2]", 4, 12) + "}", bytes(12)),
                "tensor 'w': gap of 4 bytes");
    }

    @Test
    void rejectsGapBetweenTensors() throws IOException {
        String header = "{" + W + "," + tensor("v", "F32", "[1]", 12, 16) + "}";
        assertRejected(file(header, bytes(16)), "tensor 'v': gap of 4 bytes");
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        String header = "{" + W + "," + tensor("v", "F32", "[2]", 4, 12) + "}";
        assertRejected(file(header, bytes(12)), "tensor 'v': data_offsets [4, 12] overlap those of tensor 'w'");
    }

    @Test
    void rejectsZeroLengthTensorInsideAnother() throws IOException {
        String header = "{" + W + "," + tensor("e", "F16", "[0]", 4, 4) + "}";
        assertRejected(file(header, bytes(8)), "tensor 'e'", "overlap");
    }
}
