/*
 * Fixed software keys for the fuzz targets.  They protect nothing:
 * they are fixed so that seed inputs encrypted to the RA certificate
 * decrypt in every run, and so that runs are reproducible.  Made once
 * with "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:N"
 * (CA and RA 2048 bits, the requester 1024 bits to save time on the
 * signature every structure-aware input needs).  Never use them
 * anywhere else.
 */
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "fuzz.h"

static const char *const fuzz_keys_pem[FUZZ_KEY__MAX] = {
	[FUZZ_KEY_CA] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDMiHK26N4KMtn3\n"
	    "dryu2x74BK2XhNtBOyvLwbtPYZUcvLuIKZ83h7rmF0ZVYrjC0m7JPJ1UoJec6T3/\n"
	    "QEfF49jjP3WGfD+Eyxx6ehsdbR6bTbOKV5ilkt6cZUvVWEgmM10tWHLh1VkdacvT\n"
	    "HrD+zeszvTsy8GZ8/4dl+BGg4UZbcD8m2uP4iNkRTbwyo8BCy/5X/40i5Ijn59t2\n"
	    "0wcDusYyEQKXl+8tsbJyrPDQGo7Okx+tC+4k2Q5fxyUnbAfONYAhB+Re/fcEvRSU\n"
	    "axoFhFhoHDSBOpbLJ4eWergpne7U+3YzFZ6A1FWcgWQPWJoZG3Nf9IDWI6lVfBwj\n"
	    "+57sDuiZAgMBAAECggEAFtxndLH5jh/vRJ16ayblwr4EcyDv6s4aJTz4WoqN1/eb\n"
	    "vxU74mvi2YX0yrrCllAJVFKDRAAWgieAfPpqgKATesRPNrgbghRmZfrQ82HiH7oN\n"
	    "x82RARdgl2WBFjhhtBdd96FhEdnpYIQV5U6TD5/k2qnGJ07p0wMyrJSPeoZuI+5o\n"
	    "Omd+l8ZQ+96cX07ULEDxmS389JpM1tjIuwkwi+QUjo+jh0eO6LRZYBaEu/VHVSdK\n"
	    "CKo+dpzck4CbCxHK5rIzqFVBdumdSm9FOH3bl1W6pxBpKI7YHp2hmyYt1Be+U4gC\n"
	    "qNRcOFNwLLihWixGrOuR7pHVYPl5vGcNytJ09UsHmwKBgQDonFxHnDBoBcWSEEZ0\n"
	    "WLYbnvdXDOQY3GQg90QDRi7XwzFCV6HYfNQOQ8GubjG7M4kLRgnzSX/+g3HD6wom\n"
	    "HVjYKEb8VbHUKRYRkKO4guGF1QIAx4+UK6MK8/zm5L2sGKK8SDqufyXbIBvum+Sb\n"
	    "mxMinQK05UoZxS38wJrX56f4uwKBgQDhGVY3gMUyUwg/FSQoPz/tbJkGeNBo1DL+\n"
	    "80M9FlhWmjPllr1v6OhVKAg4Tn1VdRNkgrkzt2d3MHDyRpBUGu/sZg/yyeGo8iyb\n"
	    "VROp53kfyyyZqHY7iBH+yHDdOq+oGr8y48QS77lyQAZN7/9cRLiHTH8WYYb+nYFg\n"
	    "8vz5PA0ouwKBgEcL4v+YTAypnqOzRuGoas7a6e7zqAOT5R1QiLx7Rjlui/AYdf16\n"
	    "ewZ0WYbeb2AfKH+B/+4ICAkDus69Tlc/5W/4NV5DClKjzfLFe8wSZbGL0tXMHiWC\n"
	    "goUI6rjXKruStrnNUecUPMrF7uIdSWDhp6GN1VLNKanfWOF3LpQ9VEebAoGALpBk\n"
	    "MmUT5d4hRZNlAGJdIgsl+J3DVvwWdIDz9s4JhhiuBZ9SHrVKYls+oA80hBoM4ezc\n"
	    "zOLyp0hBBQ0tzAgqe3d9cxbp9F3sdlF6GNqGRtprpnmfw57ZQiBKoKkELz0hMjDF\n"
	    "nbkzXnv6EeNEqtyYY3yiiYmxODhyzBBX3mLawgMCgYBi6Ai/fZjj49N350/SZJ9Y\n"
	    "O+1ucniJl3WCzuaoC04TuTUwJSUW3wMB2FtLgybn+9fDhV+/4ccTNqq45hRKi2/6\n"
	    "xqE5yKV3o5rvgHNQeHC0xuYuoZ0yGFFcOmrvpPGGhP6IIHaK9CDwekpexDAHCLaV\n"
	    "dQXp6TULsK7o2k6nZrvcTg==\n"
	    "-----END PRIVATE KEY-----\n"
	    ,
	[FUZZ_KEY_RA] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCjM3E+0gbKAK+k\n"
	    "j/ck/oAtF8l9Fbo9dvCnIol+Q8Ob9rshIepRmLV1x8TQm+QbaGRh/leCedOzOCqO\n"
	    "q2Nvs0z0HH0tOrc5OCfDe4tmVgtoXDiI8B72IqTYNVC70D4vW1O2Tu7z04pTMnRP\n"
	    "y62syrh8I9hG43MczR36F/PbifdjJ7U489Bnl4mRTTs4we68C94CCxP8ELfBX0u9\n"
	    "y915JfEJ2f31LThMhrIsDXjkOHfs3fvT7+BJDwKzc6VtKoOz6v34MNI+vr07W4/B\n"
	    "/drG1QltRpS0PTCJx/SUgs1nftGP/+CNLxqWm/77Lv0PAlOlcqpv98gH/F1UKiCm\n"
	    "/WCyW8m3AgMBAAECggEAMSApjRbsqz7EoF0jsHOZgrlf0fLJ4nmcnDrlt2fPiHGf\n"
	    "R6xtW82DheYx5PegFO36FZNZpTFl29Ni4BpQLs4CspKmzYgYojU4pvvX7OCmw23L\n"
	    "KNFbCI1KILj/yeE37spnav/cpvG8+Ck+YMy3RUWqfdfOYRxTSM6noOI36hRgLuzI\n"
	    "Scx5zldRu+C4JKOIg3ulzDOGJy9rUkl0d7xx9kU8OYx/fXzJWeS3gIbCBKK+ZksZ\n"
	    "Zevd5UiX4pKaiGzRcaJL4SQjGDi29GZ9hIB7uwENXA1hUqYI2dj3YUghaC14Psqx\n"
	    "mXSNZfDB6WTF3h23ZiWc0eOqzY3jD+epVZ7p0LIfwQKBgQDWf7vl9oj6p771ollD\n"
	    "3wQYaqm7D/S5fcMFFimzNld65KhqB1aXv8Roc0HbJUfl9QEgAQSTW2AmAZAo7DWy\n"
	    "RaV93oKvFLQdacRkreEzQ0KB+7Gxs39NR3XgRfRkZ7Uacf0WzEUZ8n/SoU2R2tQo\n"
	    "LfcUG9Nsrpm/FAgqBBZk4+aEdwKBgQDCxuLU/KJAuXiFvX/L70ES48BH9XpIWj6y\n"
	    "aWkpcMzb4uLBlpDVXp53g4xT5W6ZulVM6qF9pDVgpBMwDpZPR8xyMKLP4YKWC7Hj\n"
	    "eqeYElvpVTe4qmpWKEJSkP2tZwUjGbC+Xvg6G+P1qjRgSQhyLdvS2+YpuRSKq9Su\n"
	    "9IyU3dR0wQKBgFCAV/CSeg44bn6Zk47ZYBwZy+Gct2f2Pv7ltni/6E0DDAHfByyk\n"
	    "l/3rY8fvUfCH5wgv2ZvEK22YIJZ7MBvb76QxojI7Pu3bCA4RA/fNQmSuJZ5fk2NZ\n"
	    "cm/dUT9tfJaUOTwZJcX7MOXIC+i1i/IYbiZp2wtq6+C+j+HU7uKmdZk5AoGAOc1+\n"
	    "GYkTubORAdeX6nSJUkrGkFRYQsqNWrMPo123XfX6J0tAliGrU3p1lZw782Ep2Va0\n"
	    "MC4gLRrkGtnpX4PGN4kZeCnLcC3uT7zhqa6hGiDRFXt1bTYrYIdo0SIGk0EXg5d5\n"
	    "gP0v7ILjYkOqPwA/AVeC+ZTUdMbDqlwmsDMYzsECgYEAp+qhsFj+QThvsISyDkfR\n"
	    "D+FOfWCcGBYbqDfvGOQMZy+mYmHESaAPEy1/GHdAhQ9ediIGW+N0clX+1FwASFfB\n"
	    "rQzcSZ68DFwD+h/NgGOqNJRvxrPCVSiTMa4iwtnvJSD3FqKc4Ms5VjXCMAHd7TKe\n"
	    "LxJ6rxkOn1Ao5LgWzx8ZHx4=\n"
	    "-----END PRIVATE KEY-----\n"
	    ,
	[FUZZ_KEY_CLIENT] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAKrnWbSxtKAror0c\n"
	    "jMvQ3eGWmCyWLDGFD3e11ifV2b8QR+htweY702WjG8azkiRMOW4hasNfex5QlusN\n"
	    "BYk5iqmebv2kOopw4QsIhtYVD4RWzZiwcjd6PVSls+Lzt1KzkZ+9hKzafcawxzYg\n"
	    "My9+dCYay2DwnLIVu+OeDJdvQrnFAgMBAAECgYB/qX+V/aS6fL382+XEngoQaEjW\n"
	    "DXuHpiiOuLL3YMRd99BvLAXKcOgRpQyrmhnRqWrA/I9ez+UNGRATFtAK2IPdxX5G\n"
	    "Ys7Hsavtl0sO7HtZAi2tYuH6XPR5Cle/Sx95katC8gWKOSh8k9zffNM8InOVi1uk\n"
	    "lD+ElZdw/qRXd6CFgQJBANydujPt8AYdrySxyyL02i19WGzxOECZQnlI28O+8ShA\n"
	    "rJFvBKaUWlfqyYttbRAZMn7IV+TwuyOthSC1vQd2xSECQQDGUHt3Ae53EHwB0vMs\n"
	    "/rotCyn1NCwSaV9JHhdmHD1qDbay/hkJa4uLEgHCPMdFEk0SjGi/WC/gUs6YQK+D\n"
	    "1LwlAkBXkujaOkZAN0JR/52SV73PtuUGAc8BnZTMjkZmcoJKJzoZVQd0lIk0QwgU\n"
	    "J7DWZhosR5zUTVcL95JUBLBvqQ7hAkAduWx4DvsOL5NWtqaqRNfk7npwfUxpyg91\n"
	    "JyR8spjl735F394i0lLNGnrXAUMg8DhLIm6E15P9fIvouDFWgildAkEAxQQ+cL23\n"
	    "0e6ZiGxnukByRDNCR/BzeRYQwUe78moxGcCrtVIiprwC0r028ucNPpfP+A481z0P\n"
	    "NDv4DBHNWm4Iqg==\n"
	    "-----END PRIVATE KEY-----\n"
	    ,
};

static EVP_PKEY	*fuzz_keys_cache[FUZZ_KEY__MAX];

EVP_PKEY *
fuzz_keys_get0(enum fuzz_key which)
{
	BIO	*bio;

	if (fuzz_keys_cache[which] != NULL)
		return fuzz_keys_cache[which];
	if ((bio = BIO_new_mem_buf(fuzz_keys_pem[which], -1)) != NULL)
		fuzz_keys_cache[which] = PEM_read_bio_PrivateKey(bio, NULL,
		    NULL, NULL);
	BIO_free(bio);
	if (fuzz_keys_cache[which] == NULL)
		fuzz_util_die("fuzz_keys_get0: cannot read key %d", which);
	return fuzz_keys_cache[which];
}

void
fuzz_keys_free(void)
{
	int	i;

	for (i = 0; i < FUZZ_KEY__MAX; i++) {
		EVP_PKEY_free(fuzz_keys_cache[i]);
		fuzz_keys_cache[i] = NULL;
	}
}
