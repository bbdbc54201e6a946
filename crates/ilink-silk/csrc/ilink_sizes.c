/* ilink: the sizes and offsets of the SDK's control structs as the C compiler
   lays them out, so that a unit test compares them with the hand-written
   #[repr(C)] declarations in src/ffi.rs (a mismatch fails the test). */
#include <stddef.h>
#include "SKP_Silk_SDK_API.h"

size_t ilink_silk_sizeof_enc_control( void )
{
    return sizeof( SKP_SILK_SDK_EncControlStruct );
}

size_t ilink_silk_sizeof_dec_control( void )
{
    return sizeof( SKP_SILK_SDK_DecControlStruct );
}

size_t ilink_silk_offsetof_enc_use_dtx( void )
{
    return offsetof( SKP_SILK_SDK_EncControlStruct, useDTX );
}

size_t ilink_silk_offsetof_dec_in_band_fec_offset( void )
{
    return offsetof( SKP_SILK_SDK_DecControlStruct, inBandFECOffset );
}
