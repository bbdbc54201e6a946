/* libFuzzer harness for the vendored SILK decoder, built with AddressSanitizer
   and UndefinedBehaviorSanitizer by run.sh.

   The input is framed exactly as the Rust decoder frames it (ilink::voice::decode
   over ilink_silk::Decoder::decode_packet, fed as fuzz/fuzz_targets/voice_decode.rs
   feeds it):
   - the header is optional: "\x02#!SILK_V3" or "#!SILK_V3" is stripped when
     present, and the rest is the packets either way;
   - the output rate is SAMPLE_RATES[ input length % 7 ];
   - the framing is checked before any packet is decoded: a 16-bit
     little-endian length before each packet, -1 ends the stream, a length
     outside 1..1024 or a packet cut short refuses the whole input, at most
     6000 packets (10 minutes), at least one;
   - each packet is decoded from its own heap copy of exactly its length (so
     that AddressSanitizer sees any read past it), by the same loop as
     decode_packet: SKP_Silk_SDK_Decode into a 960-sample buffer while
     moreInternalDecoderFrames, at most 5 frames; the first error ends the
     input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "SKP_Silk_SDK_API.h"

#define MAX_PACKET_BYTES      1024
#define MAX_FRAMES_PER_PACKET 5
#define MAX_FRAME_SAMPLES     960
#define MAX_PACKETS           6000 /* 10 minutes of 100 ms packets */
#define MAX_SECONDS           600

static const int32_t SAMPLE_RATES[ 7 ] = { 8000, 12000, 16000, 24000, 32000, 44100, 48000 };

/* The packets' bytes, or -1 when the framing is refused. */
static long check_framing( const uint8_t *p, size_t n )
{
    long packets = 0;
    while( n > 0 ) {
        int16_t len;
        if( n < 2 ) {
            return -1;
        }
        len = ( int16_t )( p[ 0 ] | ( p[ 1 ] << 8 ) );
        p += 2;
        n -= 2;
        if( len == -1 ) {
            break;
        }
        if( len < 1 || len > MAX_PACKET_BYTES || ( size_t )len > n ) {
            return -1;
        }
        p += len;
        n -= ( size_t )len;
        if( ++packets > MAX_PACKETS ) {
            return -1;
        }
    }
    return packets == 0 ? -1 : packets;
}

int LLVMFuzzerTestOneInput( const uint8_t *data, size_t size )
{
    static void *dec = NULL;
    SKP_SILK_SDK_DecControlStruct control;
    SKP_int16 frame[ MAX_FRAME_SAMPLES ];
    const uint8_t *p = data;
    size_t n = size;
    int32_t rate = SAMPLE_RATES[ size % 7 ];
    uint64_t total = 0;

    if( n > 0 && p[ 0 ] == 0x02 && n >= 10 && memcmp( p + 1, "#!SILK_V3", 9 ) == 0 ) {
        p += 10;
        n -= 10;
    } else if( n >= 9 && memcmp( p, "#!SILK_V3", 9 ) == 0 ) {
        p += 9;
        n -= 9;
    }
    if( check_framing( p, n ) < 0 ) {
        return 0;
    }

    if( dec == NULL ) {
        SKP_int32 dec_size = 0;
        if( SKP_Silk_SDK_Get_Decoder_Size( &dec_size ) != 0 || dec_size <= 0 ) {
            abort();
        }
        dec = malloc( ( size_t )dec_size );
        if( dec == NULL ) {
            abort();
        }
    }
    if( SKP_Silk_SDK_InitDecoder( dec ) != 0 ) {
        abort();
    }
    memset( &control, 0, sizeof( control ) );
    control.API_sampleRate = rate;
    control.framesPerPacket = 1;

    while( n > 0 ) {
        int16_t len = ( int16_t )( p[ 0 ] | ( p[ 1 ] << 8 ) );
        uint8_t *packet;
        int frames, failed = 0;
        p += 2;
        n -= 2;
        if( len == -1 ) {
            break;
        }
        packet = malloc( ( size_t )len );
        if( packet == NULL ) {
            abort();
        }
        memcpy( packet, p, ( size_t )len );
        p += len;
        n -= ( size_t )len;
        for( frames = 0; ; frames++ ) {
            SKP_int16 samples = MAX_FRAME_SAMPLES;
            SKP_int ret;
            if( frames == MAX_FRAMES_PER_PACKET ) {
                failed = 1; /* SilkError::TooManyFrames */
                break;
            }
            ret = SKP_Silk_SDK_Decode( dec, &control, 0, packet, len, frame, &samples );
            if( ret != 0 ) {
                failed = 1; /* SilkError::Decode */
                break;
            }
            if( samples < 0 || samples > MAX_FRAME_SAMPLES ) {
                abort(); /* more samples than the buffer holds */
            }
            total += ( uint64_t )samples;
            if( total > ( uint64_t )MAX_SECONDS * ( uint64_t )rate ) {
                abort(); /* more audio than the packets can hold */
            }
            if( control.moreInternalDecoderFrames == 0 ) {
                break;
            }
        }
        free( packet );
        if( failed ) {
            break;
        }
    }
    return 0;
}
