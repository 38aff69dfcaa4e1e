/*
 * Every PKCS#11 2.40 function but C_GetFunctionList and C_Initialize
 * (which hsm/p11fault.c wraps by hand), as X(name, parameter list,
 * argument list).
 */
#ifndef SCEPD_P11FAULT_FUNCTIONS_H
#define SCEPD_P11FAULT_FUNCTIONS_H

#define P11FAULT_FUNCTIONS(X) \
	X(C_Finalize, (CK_VOID_PTR a), (a)) \
	X(C_GetInfo, (CK_INFO_PTR a), (a)) \
	X(C_GetSlotList, (CK_BBOOL a, CK_SLOT_ID_PTR b, CK_ULONG_PTR c), \
	    (a, b, c)) \
	X(C_GetSlotInfo, (CK_SLOT_ID a, CK_SLOT_INFO_PTR b), (a, b)) \
	X(C_GetTokenInfo, (CK_SLOT_ID a, CK_TOKEN_INFO_PTR b), (a, b)) \
	X(C_GetMechanismList, (CK_SLOT_ID a, CK_MECHANISM_TYPE_PTR b, \
	    CK_ULONG_PTR c), (a, b, c)) \
	X(C_GetMechanismInfo, (CK_SLOT_ID a, CK_MECHANISM_TYPE b, \
	    CK_MECHANISM_INFO_PTR c), (a, b, c)) \
	X(C_InitToken, (CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, \
	    CK_UTF8CHAR_PTR d), (a, b, c, d)) \
	X(C_InitPIN, (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c), \
	    (a, b, c)) \
	X(C_SetPIN, (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c, \
	    CK_UTF8CHAR_PTR d, CK_ULONG e), (a, b, c, d, e)) \
	X(C_OpenSession, (CK_SLOT_ID a, CK_FLAGS b, CK_VOID_PTR c, \
	    CK_NOTIFY d, CK_SESSION_HANDLE_PTR e), (a, b, c, d, e)) \
	X(C_CloseSession, (CK_SESSION_HANDLE a), (a)) \
	X(C_CloseAllSessions, (CK_SLOT_ID a), (a)) \
	X(C_GetSessionInfo, (CK_SESSION_HANDLE a, CK_SESSION_INFO_PTR b), \
	    (a, b)) \
	X(C_GetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, \
	    CK_ULONG_PTR c), (a, b, c)) \
	X(C_SetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, \
	    CK_ULONG c, CK_OBJECT_HANDLE d, CK_OBJECT_HANDLE e), \
	    (a, b, c, d, e)) \
	X(C_Login, (CK_SESSION_HANDLE a, CK_USER_TYPE b, CK_UTF8CHAR_PTR c, \
	    CK_ULONG d), (a, b, c, d)) \
	X(C_Logout, (CK_SESSION_HANDLE a), (a)) \
	X(C_CreateObject, (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, \
	    CK_ULONG c, CK_OBJECT_HANDLE_PTR d), (a, b, c, d)) \
	X(C_CopyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, \
	    CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_OBJECT_HANDLE_PTR e), \
	    (a, b, c, d, e)) \
	X(C_DestroyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b), \
	    (a, b)) \
	X(C_GetObjectSize, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, \
	    CK_ULONG_PTR c), (a, b, c)) \
	X(C_GetAttributeValue, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, \
	    CK_ATTRIBUTE_PTR c, CK_ULONG d), (a, b, c, d)) \
	X(C_SetAttributeValue, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, \
	    CK_ATTRIBUTE_PTR c, CK_ULONG d), (a, b, c, d)) \
	X(C_FindObjectsInit, (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, \
	    CK_ULONG c), (a, b, c)) \
	X(C_FindObjects, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE_PTR b, \
	    CK_ULONG c, CK_ULONG_PTR d), (a, b, c, d)) \
	X(C_FindObjectsFinal, (CK_SESSION_HANDLE a), (a)) \
	X(C_EncryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_OBJECT_HANDLE c), (a, b, c)) \
	X(C_Encrypt, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, \
	    CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_EncryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, \
	    CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_EncryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, \
	    CK_ULONG_PTR c), (a, b, c)) \
	X(C_DecryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_OBJECT_HANDLE c), (a, b, c)) \
	X(C_Decrypt, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, \
	    CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_DecryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, \
	    CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_DecryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, \
	    CK_ULONG_PTR c), (a, b, c)) \
	X(C_DigestInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b), (a, b)) \
	X(C_Digest, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, \
	    CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_DigestUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), \
	    (a, b, c)) \
	X(C_DigestKey, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b), (a, b)) \
	X(C_DigestFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, \
	    CK_ULONG_PTR c), (a, b, c)) \
	X(C_SignInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_OBJECT_HANDLE c), (a, b, c)) \
	X(C_Sign, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, \
	    CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_SignUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), \
	    (a, b, c)) \
	X(C_SignFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), \
	    (a, b, c)) \
	X(C_SignRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_OBJECT_HANDLE c), (a, b, c)) \
	X(C_SignRecover, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, \
	    CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_VerifyInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_OBJECT_HANDLE c), (a, b, c)) \
	X(C_Verify, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, \
	    CK_BYTE_PTR d, CK_ULONG e), (a, b, c, d, e)) \
	X(C_VerifyUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), \
	    (a, b, c)) \
	X(C_VerifyFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), \
	    (a, b, c)) \
	X(C_VerifyRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_OBJECT_HANDLE c), (a, b, c)) \
	X(C_VerifyRecover, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, \
	    CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_DigestEncryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, \
	    CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_DecryptDigestUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, \
	    CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_SignEncryptUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, \
	    CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_DecryptVerifyUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, \
	    CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e), (a, b, c, d, e)) \
	X(C_GenerateKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_OBJECT_HANDLE_PTR e), \
	    (a, b, c, d, e)) \
	X(C_GenerateKeyPair, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_ATTRIBUTE_PTR c, CK_ULONG d, CK_ATTRIBUTE_PTR e, CK_ULONG f, \
	    CK_OBJECT_HANDLE_PTR g, CK_OBJECT_HANDLE_PTR h), \
	    (a, b, c, d, e, f, g, h)) \
	X(C_WrapKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_OBJECT_HANDLE c, CK_OBJECT_HANDLE d, CK_BYTE_PTR e, \
	    CK_ULONG_PTR f), (a, b, c, d, e, f)) \
	X(C_UnwrapKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_OBJECT_HANDLE c, CK_BYTE_PTR d, CK_ULONG e, CK_ATTRIBUTE_PTR f, \
	    CK_ULONG g, CK_OBJECT_HANDLE_PTR h), (a, b, c, d, e, f, g, h)) \
	X(C_DeriveKey, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, \
	    CK_OBJECT_HANDLE c, CK_ATTRIBUTE_PTR d, CK_ULONG e, \
	    CK_OBJECT_HANDLE_PTR f), (a, b, c, d, e, f)) \
	X(C_SeedRandom, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), \
	    (a, b, c)) \
	X(C_GenerateRandom, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), \
	    (a, b, c)) \
	X(C_GetFunctionStatus, (CK_SESSION_HANDLE a), (a)) \
	X(C_CancelFunction, (CK_SESSION_HANDLE a), (a)) \
	X(C_WaitForSlotEvent, (CK_FLAGS a, CK_SLOT_ID_PTR b, CK_VOID_PTR c), \
	    (a, b, c))

#endif
